//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/vaultsync/kv"
)

// TestTUIInTmux runs credscan tui in a real terminal (tmux) against the
// real Vault server, as a dev lead under the generated policy: filter,
// open their app, tick a step with a note while a second client ticks
// the same app, see the other team's app read-only, quit. Then Vault's
// data and credscan's audit log must hold both ticks with the right
// identities. Every captured screen is leak-checked against the planted
// passwords. CREDSCAN_TUI_CAPTURE=dir keeps the screens (the README's
// captures come from there).
func TestTUIInTmux(t *testing.T) {
	testenv.Need(t, "tmux", "tmux")
	bin := credscanBinary(t)
	m, secrets := exampleEstateInVault(t)
	v := pushAsScanner(t, m)
	hcl, errOut, code := run(t, "vault", "policy", "dev-lead", "-m", m, "--owner", "team-billing")
	if code != 0 {
		t.Fatal(errOut)
	}
	v.Policy("credscan-lead-billing", hcl)
	carol, dave := v.Token("carol", "credscan-lead-billing"), v.Token("dave", "credscan-lead-billing")

	term := testenv.StartTmux(t, 120, 40, []string{"VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=" + carol, "NO_COLOR=1",
		"CREDSCAN_FINGERPRINT_KEY=test-key-0123456789abcdef", "TERM=xterm-256color"}, bin, "tui", "-m", m)
	term.Secrets = secrets
	capture := func(name, screen string) {
		if dir := os.Getenv("CREDSCAN_TUI_CAPTURE"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, name+".txt"), []byte(screen), 0o644)
		}
	}
	wait := 20 * time.Second
	overview := term.WaitFor(wait, "WAVE 1", "WAVE 3", "billing-api", "ops-scripts", "Vault "+v.Addr)
	capture("overview", overview)

	// the filter takes q as text; enter keeps it, enter opens the app
	term.Keys("/")
	term.Type("billq")
	term.WaitFor(wait, "/billq", "0 of 4 apps")
	term.Keys("BSpace")
	term.WaitFor(wait, "1 of 4 apps")
	term.Keys("Enter", "Enter")
	term.WaitFor(wait, "CHECKLIST", "billing-api  owner team-billing", "OCCURRENCES (redacted)", "space tick/untick")

	// tick "reads from Vault" with a note; another lead ticks the same
	// app before carol confirms
	term.Keys("Down", "Down", "Space")
	term.WaitFor(wait, `Tick "reads from Vault" of billing-api as token-carol?`)
	term.Type("Vault Agent template, checked in staging")
	t.Setenv("VAULT_TOKEN", dave)
	if out, errOut, code := run(t, "tick", "billing-api", "verified-on-green", "--note", "smoke tests pass", "-m", m); code != 0 {
		t.Fatalf("the second client's tick: exit %d %s%s", code, out, errOut)
	}
	term.Keys("Enter")
	detail := term.WaitFor(wait, "tick by token-carol", "tick by token-dave")
	capture("detail", detail)
	if !strings.Contains(detail, "[x] reads from Vault") || !strings.Contains(detail, "Vault Agent template, checked in staging") {
		t.Errorf("the tick is not on screen")
	}

	// the other team's app is read-only for carol
	term.Keys("Escape")
	term.WaitFor(wait, "WAVE 1")
	term.Keys("Escape", "/")
	term.Type("ledger")
	term.Keys("Enter", "Enter")
	ro := term.WaitFor(wait, "ledger-worker  owner team-ledger", "read-only: this identity may not update this app")
	if strings.Contains(ro, "space tick") {
		t.Errorf("tick keys are in the help of a read-only app")
	}
	term.Keys("q")
	deadline := time.Now().Add(wait)
	for !term.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("q did not quit")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Vault holds both ticks, signed by who made them
	st, _, err := tracker.NewKVStore(kv.NewVault(v.Client(v.RootToken), "secret"), "").Load(context.Background(), "billing-api")
	if err != nil {
		t.Fatal(err)
	}
	who := map[tracker.Step]string{}
	for _, e := range st.History {
		if e.Kind == tracker.Tick {
			who[e.Step] = e.Actor.Vault + " " + e.Note
			if e.Actor.Entity == "" && e.Actor.Accessor == "" {
				t.Errorf("tick %s has no Vault identity: %+v", e.Step, e.Actor)
			}
		}
	}
	if who[tracker.ReadsFromVault] != "token-carol Vault Agent template, checked in staging" || who[tracker.VerifiedOnGreen] != "token-dave smoke tests pass" {
		t.Errorf("ticks in Vault: %v", who)
	}
	// and credscan's audit log has carol's tick
	recs, problem, err := audit.VerifyFile(filepath.Join(filepath.Dir(m), "audit.jsonl"))
	if err != nil || problem != nil {
		t.Fatal(err, problem)
	}
	found := false
	for _, r := range recs {
		if r.Action == "tracker.tick" && r.Actor.Vault == "token-carol" && strings.Join(r.Scope, " ") == "billing-api reads-from-vault" {
			found = true
		}
	}
	if !found {
		t.Errorf("carol's tick is not in the audit log")
	}
}

// exampleEstateInVault copies examples/estate with its tracker in Vault
// and an audit log of its own, and returns the manifest and every
// plaintext its scan finds (for the leak checks).
func exampleEstateInVault(t *testing.T) (string, []string) {
	t.Helper()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	dir := filepath.Join(t.TempDir(), "estate")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", "estate"))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "credscan.yaml")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("tracker:\n  vault: {}\naudit:\n  file: audit.jsonl\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	man, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := estate.Run(context.Background(), man, estate.Options{})
	if err != nil && !errors.Is(err, estate.ErrBlocking) {
		t.Fatal(err)
	}
	var secrets []string
	for _, fd := range res.Findings {
		if s := fd.Secret.Reveal(); len(s) >= 6 {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		t.Fatal("the example estate's scan found no secret")
	}
	return path, secrets
}
