package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/vaultsync/kv"
)

// --known-from-vault reads every readable version of the passwords under
// a path from a real Vault, finds their copies in a binary no rule reads,
// writes nothing to Vault, and prints no secret.
func TestKnownFromVault(t *testing.T) {
	v := testenv.StartVault(t)
	t.Setenv("VAULT_ADDR", v.Addr)
	t.Setenv("VAULT_TOKEN", v.RootToken)
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	ctx := context.Background()
	store := kv.NewVault(v.Client(v.RootToken), "secret")
	old, current, dsnPw := leakcheck.Secret(t), leakcheck.Secret(t), leakcheck.Secret(t)
	for _, pw := range []string{old, current} {
		if _, err := store.Put(ctx, "arp/legacy/billing", map[string]any{"username": "arp_app", "password": pw}, kv.Any); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Put(ctx, "arp/legacy/deep/dsn", map[string]any{"url": "postgres://arp_ro:" + dsnPw + "@arp-db/arp"}, 0); err != nil {
		t.Fatal(err)
	}
	before, _ := store.List(ctx, "")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "lib", "Legacy.class"), "\xca\xfe\xba\xbe\x00\x00\x00\x34\x01\x00"+old+"\x00\x01")
	writeFile(t, filepath.Join(dir, "dump.sql"), "INSERT INTO cfg VALUES ('db', '"+dsnPw+"');\n")
	for _, format := range []string{"table", "json", "sarif", "csv", "markdown"} {
		out, errOut, code := run(t, "scan", "dir", dir, "--known-from-vault", "arp/legacy/", "--format", format, "--log-level", "debug")
		leakcheck.AssertNone(t, format+" output", []byte(out+errOut), old, current, dsnPw)
		if code != exitBlocking {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		if format == "json" && (!strings.Contains(out, "lib/Legacy.class") || !strings.Contains(out, "dump.sql") || strings.Count(out, `"rule_id": "known-secret"`) != 2) {
			t.Fatalf("json: want both copies as known-secret findings:\n%s", out)
		}
	}
	after, _ := store.List(ctx, "")
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("the sweep wrote to Vault: %v, then %v", before, after)
	}
	// a path that is not there is a clear error
	_, errOut, code := run(t, "scan", "dir", dir, "--known-from-vault", "arp/nothing")
	if code == 0 || !strings.Contains(errOut, "arp/nothing") {
		t.Errorf("missing path: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

// A password too short to sweep is said on stderr (by fingerprint) at
// the default log level, never shown.
func TestShortPasswordNotSweptSaysSo(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".env"), "DB_HOST=arp-db.prod.internal\nDB_USER=app\nDB_PASSWORD=Ab1!x\n")
	out, errOut, _ := run(t, "scan", "dir", dir, "--sweep")
	if !strings.Contains(errOut, "not swept") {
		t.Errorf("stderr does not say the short password was not swept:\n%s", errOut)
	}
	leakcheck.AssertNone(t, "output", []byte(out+errOut), "Ab1!x")
}

// A password found that is a plain word is not swept for (it would match
// every import path and sentence that holds the word): stderr and the
// report say so by fingerprint, the password's own finding stays, and no
// copy of the word elsewhere is reported.
func TestWordPasswordNotSweptSaysSo(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".env"), "DB_HOST=arp-db.prod.internal\nDB_USER=app\nDB_PASSWORD=stardust\n")
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\nrequire github.com/stardust/stardust v1.0.0\n")
	out, errOut, _ := run(t, "scan", "dir", dir, "--sweep", "--format", "json")
	if !strings.Contains(errOut, "plain word") || !strings.Contains(out, "plain word") {
		t.Errorf("neither stderr nor the report says the word was not swept:\n%s\n%s", errOut, out)
	}
	if strings.Contains(out, `"known-secret"`) || !strings.Contains(out, `".env"`) {
		t.Errorf("want the .env finding and no known-secret copy:\n%s", out)
	}
	leakcheck.AssertNone(t, "output", []byte(out+errOut), "DB_PASSWORD=stardust")
}
