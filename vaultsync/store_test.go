//go:build linux

package vaultsync

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/vaultsync/kv"
)

// creds builds n credentials of the target with random passwords, as a
// scan would: each found twice, in two apps.
func creds(t testing.TB, target string, n int) ([]*credscan.Credential, []string) {
	t.Helper()
	var fs []*credscan.Finding
	var secrets []string
	for i := 0; i < n; i++ {
		pw := leakcheck.Secret(t)
		secrets = append(secrets, pw)
		db := &credscan.DBIdentity{Driver: "postgresql", User: fmt.Sprintf("role_%d", i%7), Host: "arp-db.prod.internal", Port: 5432, Database: "arp"}
		sum := sha256.Sum256([]byte(pw))
		fp := hex.EncodeToString(sum[:])
		for _, app := range []string{"billing-api", "ledger-worker"} {
			fs = append(fs, &credscan.Finding{RuleID: "postgres-uri", Database: true, Secret: credscan.NewSecret(pw), DB: db, Target: target,
				Fingerprint: fp, Redacted: "DATABASE_URL=postgres://" + db.User + ":****@arp-db.prod.internal:5432/arp",
				Origin: credscan.Origin{Kind: credscan.KindDir, App: app, Path: "config/db.env", Line: i + 1}})
		}
	}
	return credscan.Group(fs), secrets
}

func newStore(t testing.TB, v *testenv.Vault, token string) *Store {
	c := v.Client(token)
	c.SetMaxRetries(0)
	st := NewStore(kv.NewVault(c, "secret"), Layout{}, nil)
	st.Backoff = 50 * time.Millisecond
	return st
}

// The credential store conformance suite, against the real Vault server.
func TestPushConformance(t *testing.T) {
	v := testenv.StartVault(t)
	ctx := context.Background()
	cs, secrets := creds(t, "ARP", 3)
	other, _ := creds(t, "OTC", 1)
	entries := Entries(append(cs, other...), Layout{}, "test")
	st := newStore(t, v, "")

	// a dry run plans and writes nothing
	plan, err := NewStore(kv.NewDryRun(st.KV()), Layout{}, nil).Push(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range plan {
		if o.Action != New {
			t.Errorf("dry run: %s %s, want new", o.Path, o.Action)
		}
	}
	if _, err := v.Client("").KVv2("secret").Get(ctx, plan[0].Path); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("a dry run wrote %s (%v)", plan[0].Path, err)
	}

	outs, err := st.Push(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, o := range outs {
		paths[o.Path] = true
		if o.Action != New || o.Version != 1 {
			t.Errorf("first push: %s %s v%d, want new v1", o.Path, o.Action, o.Version)
		}
	}
	for _, want := range []string{
		"arp/legacy/role_0/" + cs[0].Fingerprint[:12],
		"otc/role_0/" + other[0].Fingerprint[:12],
		"credscan/findings/billing-api",
		"credscan/findings/ledger-worker",
	} {
		if !paths[want] {
			t.Errorf("no entry at %s; have %v", want, paths)
		}
	}
	// the entry holds the password, the identity and a legacy DSN
	kv := v.Client("").KVv2("secret")
	sec, err := kv.Get(ctx, entries[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Data["password"] != secrets[0] || sec.Data["user"] != "role_0" || sec.Data["host"] != "arp-db.prod.internal" ||
		sec.Data["port"] != "5432" || sec.Data["database"] != "arp" {
		t.Errorf("entry data is not the credential (values not shown)")
	}
	if dsn, _ := sec.Data["dsn"].(string); !strings.HasPrefix(dsn, "postgresql://role_0:") || !strings.HasSuffix(dsn, "@arp-db.prod.internal:5432/arp") {
		t.Errorf("dsn has the wrong shape")
	}
	md, err := kv.GetMetadata(ctx, entries[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"fingerprint", "first_seen", "last_seen", "occurrences", "apps", "rules", "target", "user"} {
		if md.CustomMetadata[k] == nil || md.CustomMetadata[k] == "" {
			t.Errorf("custom_metadata has no %s", k)
		}
	}
	if md.CustomMetadata["apps"] != "billing-api,ledger-worker" || md.CustomMetadata["occurrences"] != "2" {
		t.Errorf("custom_metadata apps/occurrences: %v", md.CustomMetadata)
	}
	first := md.CustomMetadata["first_seen"]
	// the findings entry holds the redacted occurrences, no password
	fsec, err := kv.Get(ctx, "credscan/findings/billing-api")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(fsec.Data)
	leakcheck.AssertNone(t, "credscan/findings/billing-api", b, secrets...)
	if n, _ := fsec.Data["count"].(json.Number); n.String() != "4" {
		t.Errorf("findings count %v, want 4", fsec.Data["count"])
	}

	// a re-push of unchanged secrets writes no version, keeps first_seen
	st.now = func() time.Time { return time.Now().Add(time.Hour) }
	outs, err = st.Push(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Action != Unchanged || o.Version != 1 {
			t.Errorf("re-push: %s %s v%d, want unchanged v1", o.Path, o.Action, o.Version)
		}
	}
	md, _ = kv.GetMetadata(ctx, entries[0].Path)
	if md.CurrentVersion != 1 || md.CustomMetadata["first_seen"] != first || md.CustomMetadata["last_seen"] == first {
		t.Errorf("after re-push: version %d, first_seen kept %v, last_seen moved %v", md.CurrentVersion,
			md.CustomMetadata["first_seen"] == first, md.CustomMetadata["last_seen"] != first)
	}

	// someone rotates an entry by hand: the push writes a new version and says so
	if _, err := kv.Put(ctx, entries[0].Path, map[string]any{"password": "rotated-by-hand"}); err != nil {
		t.Fatal(err)
	}
	outs, err = st.Push(ctx, entries[:1])
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].Action != Changed || outs[0].Version != 3 {
		t.Errorf("after a hand rotation: %s v%d, want changed v3", outs[0].Action, outs[0].Version)
	}
}

// Pushes racing on the same entries never lose an update: check-and-set
// makes each writer read the version it replaces, so eight pushes of the
// same value make one version, and two different values make two.
func TestConcurrentPushesCAS(t *testing.T) {
	v := testenv.StartVault(t)
	ctx := context.Background()
	cs, _ := creds(t, "ARP", 20)
	entries := Entries(cs, Layout{}, "test")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := newStore(t, v, "").Push(ctx, entries)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	kv := v.Client("").KVv2("secret")
	for _, e := range entries {
		md, err := kv.GetMetadata(ctx, e.Path)
		if err != nil {
			t.Fatal(err)
		}
		if md.CurrentVersion != 1 {
			t.Errorf("%s: %d versions after 8 identical concurrent pushes, want 1", e.Path, md.CurrentVersion)
		}
	}
	// two different values for one entry, concurrently: both land, in turn
	a, b := entries[0], entries[0]
	a.Data, b.Data = map[string]any{"password": "a-" + leakcheck.Secret(t)}, map[string]any{"password": "b-" + leakcheck.Secret(t)}
	var wg2 sync.WaitGroup
	var outs [2]Outcome
	for i, e := range []Entry{a, b} {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			o, err := newStore(t, v, "").Push(ctx, []Entry{e})
			if err != nil {
				t.Error(err)
				return
			}
			outs[i] = o[0]
		}()
	}
	wg2.Wait()
	md, _ := kv.GetMetadata(ctx, a.Path)
	if md.CurrentVersion != 3 || outs[0].Version == outs[1].Version {
		t.Errorf("two different concurrent writes: current v%d (want 3), versions %d and %d", md.CurrentVersion, outs[0].Version, outs[1].Version)
	}
}

// Vault's file audit device logs every write with the secret HMAC'd: the
// HMAC in the log is the one sys/audit-hash gives, and the plaintext is
// nowhere in the log.
func TestAuditDeviceLogsWritesHMACd(t *testing.T) {
	v := testenv.StartVault(t)
	ctx := context.Background()
	st := newStore(t, v, "")
	chk, err := CheckAuditDevices(ctx, v.Client(""))
	if err != nil || chk.OK || len(chk.Warnings) == 0 {
		t.Fatalf("no device: %+v, %v; want not OK with a warning", chk, err)
	}
	logFile := v.EnableFileAudit("file")
	chk, err = CheckAuditDevices(ctx, v.Client(""))
	if err != nil || !chk.OK || len(chk.Devices) != 1 || chk.Devices[0].Type != "file" || !strings.Contains(strings.Join(chk.Warnings, " "), "only one") {
		t.Fatalf("one file device: %+v, %v", chk, err)
	}
	cs, secrets := creds(t, "ARP", 2)
	entries := Entries(cs, Layout{}, "test")
	if _, err := st.Push(ctx, entries); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	leakcheck.AssertNone(t, "Vault's audit log", raw, secrets...)
	hashes := map[string]bool{}
	for i, s := range secrets {
		h, err := v.Client("").Sys().AuditHashWithContext(ctx, "file", s)
		if err != nil {
			t.Fatal(err)
		}
		hashes[h] = true
		_ = i
	}
	logged := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var line struct {
			Type    string `json:"type"`
			Request struct {
				Operation string         `json:"operation"`
				Path      string         `json:"path"`
				Data      map[string]any `json:"data"`
			} `json:"request"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Type != "request" || !strings.HasPrefix(line.Request.Path, "secret/data/arp/legacy/") {
			continue
		}
		if line.Request.Operation != "create" && line.Request.Operation != "update" {
			continue
		}
		data, _ := line.Request.Data["data"].(map[string]any)
		pw, _ := data["password"].(string)
		if !strings.HasPrefix(pw, "hmac-sha256:") {
			t.Errorf("write of %s logged without an HMAC'd password", line.Request.Path)
		}
		logged[pw] = true
	}
	for h := range hashes {
		if !logged[h] {
			t.Errorf("a pushed password's sys/audit-hash HMAC is not in the audit log")
		}
	}
}

// Vault stopped in the middle of a push — killed (a real server with file
// storage, restarted on the same data) or frozen (SIGSTOP: it accepts
// connections and answers nothing) — : the push retries, then fails
// listing exactly the entries it did not write; once Vault is back, a
// re-run completes them and leaves the written ones unchanged.
func TestPushOutage(t *testing.T) {
	for _, mode := range []string{"killed", "frozen"} {
		t.Run(mode, func(t *testing.T) {
			var v *testenv.Vault
			var stop, back func()
			if mode == "killed" {
				v = testenv.StartVaultPersistent(t)
				stop, back = v.Kill, v.Restart
			} else {
				v = testenv.StartVault(t)
				stop, back = v.Pause, v.Resume
			}
			pushThroughOutage(t, v, stop, back)
		})
	}
}

func pushThroughOutage(t *testing.T, v *testenv.Vault, stop, back func()) {
	ctx := context.Background()
	cs, _ := creds(t, "ARP", 120)
	entries := Entries(cs, Layout{}, "test")
	c := v.Client("")
	c.SetClientTimeout(2 * time.Second)
	c.SetMaxRetries(0)
	// the server goes away right after the sixth write: the store's
	// writes pass through to the real Vault, counted
	var once sync.Once
	var puts atomic.Int32
	stopped := false
	k := &afterPut{KV: kv.NewVault(c, "secret"), hook: func() {
		if puts.Add(1) == 6 {
			once.Do(func() { stop(); stopped = true })
		}
	}}
	st := NewStore(k, Layout{}, nil)
	st.Backoff, st.Retries, st.Workers = 100*time.Millisecond, 3, 1
	outs, err := st.Push(ctx, entries)
	if !stopped {
		t.Fatal("the push ended before the server was stopped")
	}
	var pe *PushError
	if !errors.As(err, &pe) {
		t.Fatalf("push during an outage: %v, want a PushError", err)
	}
	written, failed := 0, map[string]bool{}
	for _, o := range outs {
		switch o.Action {
		case New:
			written++
		case Failed:
			failed[o.Path] = true
		default:
			t.Errorf("%s: %s", o.Path, o.Action)
		}
	}
	if written == 0 || len(failed) == 0 || written+len(failed) != len(entries) || len(pe.Failed) != len(failed) {
		t.Fatalf("written %d, failed %d of %d; error lists %d", written, len(failed), len(entries), len(pe.Failed))
	}
	for _, line := range pe.Failed {
		if !failed[strings.SplitN(line, " ", 2)[0]] {
			t.Errorf("the error lists %q, which was written", line)
		}
	}
	t.Logf("outage: %d written before the stop, %d listed as not written", written, len(failed))
	back()
	outs, err = NewStore(kv.NewVault(v.Client(""), "secret"), Layout{}, nil).Push(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		// an entry cut off mid-request may have landed: listed as not
		// written, it is then new or unchanged; a written one is unchanged
		if o.Action != Unchanged && !(failed[o.Path] && o.Action == New) {
			t.Errorf("re-run: %s %s (failed before: %v)", o.Path, o.Action, failed[o.Path])
		}
	}
}

// A sealed Vault answers 503: retried, then listed as not written; after
// unsealing, the push completes.
func TestPushSealed(t *testing.T) {
	v := testenv.StartVault(t)
	ctx := context.Background()
	if v.UnsealKey == "" {
		t.Fatal("the dev server printed no unseal key")
	}
	cs, _ := creds(t, "ARP", 3)
	entries := Entries(cs, Layout{}, "test")
	if err := v.Client("").Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, v, "")
	st.Retries = 2
	_, err := st.Push(ctx, entries)
	var pe *PushError
	if !errors.As(err, &pe) || len(pe.Failed) != len(entries) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("push to a sealed Vault: %v", err)
	}
	if _, err := v.Client("").Sys().Unseal(v.UnsealKey); err != nil {
		t.Fatal(err)
	}
	if _, err := newStore(t, v, "").Push(ctx, entries); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPush1000 pushes 1,000 credentials (and their findings
// entries) to a fresh path prefix each iteration.
func BenchmarkPush1000(b *testing.B) {
	v := testenv.StartVault(b)
	v.EnableFileAudit("file")
	cs, _ := creds(b, "ARP", 1000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := NewStore(kv.NewVault(v.Client(""), "secret"), Layout{Prefix: fmt.Sprintf("bench%d", i)}, nil)
		entries := Entries(cs, st.Layout(), "bench")
		if _, err := st.Push(ctx, entries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "credentials/s")
}

// afterPut passes everything to the KV it wraps and calls hook after each
// write that succeeded.
type afterPut struct {
	kv.KV
	hook func()
}

func (a *afterPut) Put(ctx context.Context, path string, data map[string]any, cas int) (int, error) {
	v, err := a.KV.Put(ctx, path, data, cas)
	if err == nil {
		a.hook()
	}
	return v, err
}
