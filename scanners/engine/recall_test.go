package engine_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
	"github.com/credscan/credscan/scanners/rules"
)

func scanOne(t *testing.T, path, content string) *engine.Results {
	t.Helper()
	e := scantest.Engine(t, engine.RulesAll)
	res := engine.NewResults()
	e.ScanChunk(context.Background(), credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, App: "app", Path: path}, Data: []byte(content), StartLine: 1, Whole: true}, res)
	res.Finish()
	return res
}

// Other tools' inline markers suppress like credscan:allow, and never
// silently: each suppressed finding is counted and kept, tagged with its
// marker, for --show-suppressed.
func TestOtherToolsSuppressions(t *testing.T) {
	for _, m := range engine.SuppressionMarkers {
		t.Run(m, func(t *testing.T) {
			res := scanOne(t, "app.env", "DB_HOST=arp-db.prod\nDB_USER=arp_app\nDB_PASSWORD=Xk9vQ2rT7mWz4LpA # "+m+"\n")
			if len(res.Findings) != 0 {
				t.Fatalf("%d findings, want the line suppressed", len(res.Findings))
			}
			if res.Stats.Allowed == 0 || len(res.SuppressedFindings) != res.Stats.Allowed {
				t.Fatalf("allowed %d, listed %d: want them counted and listed alike", res.Stats.Allowed, len(res.SuppressedFindings))
			}
			f := res.SuppressedFindings[0]
			if !strings.Contains(strings.Join(f.Tags, ","), "suppressed:"+m) || strings.Contains(f.Redacted, "Xk9vQ2rT7mWz4LpA") {
				t.Fatalf("suppressed finding tags %v, redacted line leaks or lacks its marker", f.Tags)
			}
		})
	}
}

// One finding per secret per place: gitleaks' whole-manifest match of a
// Kubernetes Secret and a gitleaks rule on a DB-pack line give way to the
// DB pack's finding, which has the identity.
func TestOneFindingPerSecretPerPlace(t *testing.T) {
	res := scanOne(t, "k8s/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: arp-db\ntype: Opaque\ndata:\n  username: YXJwX2FwcA==\n  password: SzhzUHc5eHhRcjd2\n")
	if len(res.Findings) != 1 || res.Findings[0].RuleID != rules.K8sSecret || res.Findings[0].User() != "arp_app" {
		var ids []string
		for _, f := range res.Findings {
			ids = append(ids, f.RuleID)
		}
		t.Fatalf("findings %v, want one %s with its user", ids, rules.K8sSecret)
	}
	res = scanOne(t, "config.py", "DB_HOST = 'arp-db.prod'\nDB_USER = 'arp_app'\nDB_PASSWORD = 'Xk9vQ2rT7mWz4LpA'\n")
	if len(res.Findings) != 1 || !res.Findings[0].Database {
		t.Fatalf("%d findings, want the DB one only", len(res.Findings))
	}
}

// A generic password is not a database credential (no kind, no target)
// but joins the DB credential whose secret it is.
func TestGenericPasswordJoinsItsCredential(t *testing.T) {
	e := scantest.Engine(t, engine.RulesDB)
	res := engine.NewResults()
	for _, f := range []struct{ path, data string }{
		{"app.env", "DB_HOST=arp-db.prod\nDB_USER=arp_app\nDB_PASSWORD=Xk9vQ2rT7mWz4LpA\n"},
		{"tools/check.py", "if password == 'Xk9vQ2rT7mWz4LpA':\n    pass\n"},
	} {
		e.ScanChunk(context.Background(), credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, App: "app", Path: f.path}, Data: []byte(f.data), StartLine: 1, Whole: true}, res)
	}
	res.Finish()
	var generic *credscan.Finding
	for _, f := range res.Findings {
		if f.RuleID == rules.GenericPassword {
			generic = f
		}
	}
	if generic == nil || generic.Database || generic.DB != nil {
		t.Fatalf("want a generic-password finding with no DB identity")
	}
	creds := credscan.Group(res.Findings)
	if len(creds) != 1 || len(creds[0].Findings) != 2 || creds[0].User != "arp_app" {
		t.Fatalf("%d credentials, want the generic copy grouped with arp_app's", len(creds))
	}
}

// Ciphertext and named secret stores are counted per app as encrypted,
// never as findings.
func TestEncryptedCounted(t *testing.T) {
	res := scanOne(t, "secrets.enc.yaml", "db:\n  host: arp-db\n  user: arp_app\n  password: ENC[AES256_GCM,data:Tr2f8w==,iv:abc=,tag:def=,type:str]\n")
	if len(res.Findings) != 0 || res.Stats.Encrypted["app"] != 1 || res.Stats.Referenced["app"] != 0 {
		t.Fatalf("findings %d, encrypted %v, referenced %v: want 0, 1, 0", len(res.Findings), res.Stats.Encrypted, res.Stats.Referenced)
	}
}

// DBeaver's credentials-config.json, encrypted with DBeaver's published
// key, is decrypted and read as the JSON it holds.
func TestDBeaverCredentialsDecrypted(t *testing.T) {
	plain := []byte(`{"postgres-jdbc-18a2":{"#connection":{"user":"dbeaver_u","password":"Dbv3rCr3d!x"}}}`)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher([]byte{0xba, 0xbb, 0x4a, 0x9f, 0x77, 0x4a, 0xb8, 0x53, 0xc9, 0x6c, 0x2d, 0x65, 0x3d, 0xfe, 0x54, 0x4a})
	iv := []byte("0123456789abcdef")
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)
	res := scanOne(t, ".dbeaver/credentials-config.json", string(append(iv, enc...)))
	if len(res.Findings) != 1 || res.Findings[0].User() != "dbeaver_u" || strings.Contains(res.Findings[0].Redacted, "Dbv3rCr3d") {
		t.Fatalf("%d findings, want the decrypted password with its user, redacted", len(res.Findings))
	}
	if res.Stats.Items != 1 || res.Stats.Binary != 0 {
		t.Errorf("items %d, binary %d: the file is read, once", res.Stats.Items, res.Stats.Binary)
	}
}
