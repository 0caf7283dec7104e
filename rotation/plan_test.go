package rotation

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/golden"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/rotation/postgres"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func planInput() PlanInput {
	return PlanInput{Role: "arp_app", Target: "ARP", LegacyDir: "arp/legacy/arp_app", GreenPath: "arp/green/arp_app", PointerPath: "arp/current/arp_app",
		Rotation: manifest.Rotation{Database: "arp",
			Blue:      manifest.Side{Host: "arp-db.prod.internal", Port: 5432},
			Green:     manifest.Side{Host: "arp-green.prod.internal", Port: 5432},
			Broker:    &manifest.Broker{Host: "pgbouncer.prod.internal", Port: 6432, Database: "arp", DatabasesFile: "/etc/pgbouncer/arp.ini"},
			Password:  manifest.PasswordPolicy{Length: 32, Alphabet: "urlsafe"},
			Readiness: manifest.Readiness{MaxLagBytes: 1 << 20, Tables: []string{"public.orders", "public.payments"}}}}
}

// states is the rotation's state after each stage.
func states() []struct {
	name string
	st   *State
} {
	fresh := &State{Role: "arp_app"}
	verified := &State{Role: "arp_app", Verified: &Verified{At: t0, Path: "arp/legacy/arp_app/406a7224046d", Fingerprint: "406a7224046d"}}
	provisioned := *verified
	provisioned.Green = &Provisioned{At: t0.Add(time.Hour), Created: true, Version: 1}
	pointer := provisioned
	pointer.Pointer, pointer.Live = &PointerRecord{At: t0.Add(2 * time.Hour), BlueVersion: 1}, Blue
	cutover := pointer
	cutover.Live, cutover.CutoverAt = Green, t0.Add(26*time.Hour)
	crashed := pointer
	crashed.Op = &Op{Name: StageCutover, Step: StepSwapped, From: Blue, To: Green, Started: t0.Add(26 * time.Hour), By: "token-dba"}
	rolledBack := pointer
	rolledBack.RolledBackAt = t0.Add(27 * time.Hour)
	revoked := cutover
	revoked.Revoked = &Revoked{At: t0.Add(60 * time.Hour)}
	rotated := revoked
	rotated.Alternate = &Alternate{Active: "arp_app_b", Rotations: 1, At: t0.Add(90 * 24 * time.Hour)}
	return []struct {
		name string
		st   *State
	}{{"0-fresh", fresh}, {"1-verified", verified}, {"2-provisioned", &provisioned}, {"3-pointer", &pointer}, {"4-cutover", &cutover},
		{"4-crashed-mid-cutover", &crashed}, {"5-rolled-back", &rolledBack}, {"6-revoked", &revoked}, {"7-rotated", &rotated}}
}

// The plan is a pure function of the state: golden for each stage.
func TestPlanGolden(t *testing.T) {
	for _, s := range states() {
		p := NewPlan(s.st, planInput())
		if again := NewPlan(s.st, planInput()); !samePlan(p, again) {
			t.Errorf("%s: the plan is not a pure function of the state", s.name)
		}
		for _, format := range []string{"table", "markdown", "json"} {
			if format == "json" && s.name != "4-cutover" {
				continue
			}
			var b bytes.Buffer
			if err := p.Write(&b, format); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "plan/"+s.name+"."+format, b.Bytes())
		}
	}
}

func samePlan(a, b Plan) bool {
	var x, y bytes.Buffer
	_ = a.Write(&x, "json")
	_ = b.Write(&y, "json")
	return x.String() == y.String()
}

func TestPlanStatuses(t *testing.T) {
	want := map[string]string{
		"0-fresh":               "verify=next provision-green=pending cutover=pending rollback=n/a",
		"3-pointer":             "verify=done provision-green=done pointer=done cutover=next rollback=n/a",
		"4-cutover":             "cutover=done rollback=available revoke-legacy=next",
		"4-crashed-mid-cutover": "cutover=in_progress rollback=n/a",
		"6-revoked":             "revoke-legacy=done password=available",
	}
	for _, s := range states() {
		w, ok := want[s.name]
		if !ok {
			continue
		}
		got := map[string]string{}
		for _, st := range NewPlan(s.st, planInput()).Stages {
			got[st.Stage] = st.Status
		}
		for _, pair := range strings.Fields(w) {
			stage, status, _ := strings.Cut(pair, "=")
			if status = strings.ReplaceAll(status, "_", " "); got[stage] != status {
				t.Errorf("%s: %s is %q, want %q", s.name, stage, got[stage], status)
			}
		}
	}
}

func TestParseLogs(t *testing.T) {
	pg := `2026-12-02 15:38:42.065 UTC [23191] user=[unknown] db=[unknown] app=[unknown] client=10.1.2.3 LOG:  connection received: host=10.1.2.3 port=56672
2026-12-02 15:38:42.387 UTC [23197] user=arp_app db=arp app=[unknown] client=10.1.2.3 LOG:  connection authorized: user=arp_app database=arp application_name=nightly report
2026-12-02 15:38:43.001 UTC [23198] user=postgres db=postgres app=psql client=[local] LOG:  connection authorized: user=postgres database=postgres
2026-12-02 15:30:00.000 UTC [23100] user=arp_app db=arp app=old client=10.9.9.9 LOG:  connection authorized: user=arp_app database=arp
not a log line
2026-12-02 15:38:44.406 UTC [23199] user=arp_app db=arp app=[unknown] client=10.1.2.4 FATAL:  password authentication failed for user "arp_app"
`
	since := time.Date(2026, 12, 2, 15, 35, 0, 0, time.UTC)
	logins, err := ParsePostgresLog(strings.NewReader(pg), since)
	if err != nil {
		t.Fatal(err)
	}
	if len(logins) != 2 || logins[0].User != "arp_app" || logins[0].Client != "10.1.2.3" || logins[0].Application != "nightly report" || logins[1].User != "postgres" {
		t.Fatalf("postgres logins: %+v", logins)
	}
	pgb := `2026-12-02 15:38:42.364 UTC [23193] LOG C-0x55bef6f68c30: arp/arp_app@127.0.0.1:53010 login attempt: db=arp user=arp_app tls=no
2026-12-02 15:38:42.372 UTC [23193] LOG S-0x55bef6f700b0: arp/arp_app@127.0.0.1:41639 new connection to server (from 127.0.0.1:56684)
`
	logins, err = ParsePgBouncerLog(strings.NewReader(pgb), since)
	if err != nil || len(logins) != 1 || logins[0].Database != "arp" || logins[0].Client != "127.0.0.1" {
		t.Fatalf("pgbouncer logins: %+v %v", logins, err)
	}
	m := &manifest.Manifest{Apps: []manifest.App{{Name: "reports", Addresses: []string{"10.1.2.3"}}}}
	cs := clients(m, []Login{{Client: "10.1.2.3", Application: "x", At: since}, {Client: "10.1.2.3", Application: "x", At: since.Add(time.Minute)}}, "blue's log")
	if len(cs) != 1 || cs[0].Count != 2 || cs[0].App != "reports" || !cs[0].Last.Equal(since.Add(time.Minute)) {
		t.Fatalf("clients: %+v", cs)
	}
}

func FuzzParsePostgresLog(f *testing.F) {
	f.Add("2026-12-02 15:38:42.387 UTC [23197] user=arp_app db=arp app=x client=10.1.2.3 LOG:  connection authorized: user=arp_app database=arp")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParsePostgresLog(strings.NewReader(s), time.Time{})
		_, _ = ParsePgBouncerLog(strings.NewReader(s), time.Time{})
	})
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw, err := Generate(32, "urlsafe")
		if err != nil {
			t.Fatal(err)
		}
		s := pw.Reveal()
		if len(s) != 32 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" || seen[s] {
			t.Fatalf("generated %d characters outside the alphabet or twice", len(s))
		}
		seen[s] = true
	}
	pw, _ := Generate(20, "alnum")
	if strings.ContainsAny(pw.Reveal(), "-_") {
		t.Error("alnum has - or _")
	}
}

// The verifier is what PostgreSQL checks a SCRAM login against.
func TestSCRAMVerifier(t *testing.T) {
	pw := credscan.NewSecret("correct horse battery staple")
	if _, err := postgres.SCRAMVerifier(pw); err == nil {
		t.Fatal("a password with spaces needs SASLprep: refused")
	}
	pw = credscan.NewSecret("Tr0ub4dor-and_3")
	v, err := postgres.SCRAMVerifier(pw)
	if err != nil {
		t.Fatal(err)
	}
	var iter int
	parts := strings.Split(strings.TrimPrefix(v, "SCRAM-SHA-256$"), "$")
	head := strings.Split(parts[0], ":")
	keys := strings.Split(parts[1], ":")
	if len(head) != 2 || len(keys) != 2 || head[0] != "4096" {
		t.Fatalf("verifier %q", v)
	}
	iter = 4096
	salt, _ := base64.StdEncoding.DecodeString(head[1])
	salted, _ := pbkdf2.Key(sha256.New, pw.Reveal(), salt, iter, 32)
	h := hmac.New(sha256.New, salted)
	h.Write([]byte("Client Key"))
	stored := sha256.Sum256(h.Sum(nil))
	if base64.StdEncoding.EncodeToString(stored[:]) != keys[0] {
		t.Error("the stored key does not match the password")
	}
	if strings.Contains(v, pw.Reveal()) {
		t.Error("the verifier holds the password")
	}
}
