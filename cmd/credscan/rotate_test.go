//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/rotation"
	"github.com/credscan/credscan/rotation/rotationtest"
)

// rotateCLI runs the credscan binary on the rig (root token) and
// leak-checks what it prints.
type rotateCLI struct {
	t     *testing.T
	bin   string
	rig   *rotationtest.Rig
	token string
}

func (c rotateCLI) run(env []string, args ...string) (string, int, bool) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(args, "-m", c.rig.ManifestPath)...)
	cmd.Env = append(os.Environ(), "VAULT_ADDR="+c.rig.Vault.Addr, "VAULT_TOKEN="+c.token, "CREDSCAN_FINGERPRINT_KEY=test-key-0123456789abcdef")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	leakcheck.AssertNone(c.t, strings.Join(args[:2], " "), out, c.rig.Secrets()...)
	var ee *exec.ExitError
	killed := false
	code := 0
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed = true
		}
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return string(out), code, killed
}

// Under deploy/vault/rotator.hcl, the process killed at each step boundary of a cutover and of a
// rollback, then credscan rotate resume: the broker is resumed, it and
// the pointer agree with the state, no operation is left in progress,
// and the audit chain verifies.
func TestRotateKilledAtEachStepThenResumed(t *testing.T) {
	rig := rotationtest.New(t, time.Second)
	// the rotator's token under deploy/vault/rotator.hcl
	hcl, err := os.ReadFile(filepath.Join("..", "..", "deploy", "vault", "rotator.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	rig.Vault.Policy("credscan-rotator", string(hcl))
	cli := rotateCLI{t: t, bin: credscanBinary(t), rig: rig, token: rig.Vault.Token("dba-dana", "credscan-rotator")}
	role := []string{"--role", rotationtest.Role}
	for _, stage := range [][]string{
		append([]string{"rotate", "verify", "--approval", rig.Approval}, role...),
		append([]string{"rotate", "provision-green"}, role...),
		append([]string{"rotate", "pointer"}, role...),
	} {
		if out, code, _ := cli.run(nil, stage...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", stage, code, out)
		}
	}
	rig.TickReadsFromVault()
	// a dry run switches nothing
	out, code, _ := cli.run(nil, append([]string{"rotate", "cutover", "--approval", rig.Approval, "--dry-run"}, role...)...)
	if code != 0 || !strings.Contains(out, "dry run") || !strings.Contains(out, "PAUSE arp") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	rot := rig.Rotator(rig.Options())
	live := func() rotation.Side {
		st, err := rot.State(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return st.Live
	}
	check := func(after string) {
		t.Helper()
		st, err := rot.State(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := rig.Blue.Port
		if st.Live == rotation.Green {
			want = rig.Green.Port
		}
		d := rig.BrokerEntry()
		sec, err := rig.KV().Get(context.Background(), "arp/current/"+rotationtest.Role)
		if err != nil {
			t.Fatal(err)
		}
		if st.Op != nil || d.Paused || d.Port != want || sec.Data["side"] != string(st.Live) {
			t.Fatalf("after %s and resume: op %+v, broker on %d (want %d) paused %v, pointer %v, live %s", after, st.Op, d.Port, want, d.Paused, sec.Data["side"], st.Live)
		}
	}
	steps := []string{rotation.StepBegun, rotation.StepPaused, rotation.StepDrained, rotation.StepSwapped, rotation.StepReloaded, rotation.StepResumed, rotation.StepPointed}
	for _, op := range []string{"cutover", "rollback"} {
		for _, step := range steps {
			// start from the side the op moves from
			if (op == "cutover") == (live() == rotation.Green) {
				other := append([]string{"rotate", "rollback", "--reason", "test"}, role...)
				if op == "rollback" {
					other = append([]string{"rotate", "cutover", "--approval", rig.Approval}, role...)
				}
				if out, code, _ := cli.run(nil, other...); code != 0 {
					t.Fatalf("%v: exit %d\n%s", other, code, out)
				}
			}
			args := append([]string{"rotate", op, "--approval", rig.Approval}, role...)
			if op == "rollback" {
				args = append([]string{"rotate", op, "--reason", "crash test"}, role...)
			}
			out, _, killed := cli.run([]string{"CREDSCAN_TEST_KILL_AT=" + op + "/" + step}, args...)
			if !killed {
				t.Fatalf("%s was not killed at %s:\n%s", op, step, out)
			}
			// another rotation is refused while the lease is held
			if out, code, _ := cli.run(nil, append([]string{"rotate", "cutover", "--approval", rig.Approval}, role...)...); code != exitRefused || !strings.Contains(out, "in progress") {
				t.Errorf("a stage during a crashed %s: exit %d\n%s", op, code, out)
			}
			if out, code, _ := cli.run(nil, append([]string{"rotate", "resume"}, role...)...); code != 0 {
				t.Fatalf("resume after %s killed at %s: exit %d\n%s", op, step, code, out)
			}
			check(op + " killed at " + step)
			t.Logf("%s killed at %-9s → resumed on %s", op, step, live())
		}
	}
	recs, problem, err := audit.VerifyFile(rig.AuditPath)
	if err != nil || problem != nil {
		t.Fatalf("the audit chain after the crashes: %v %v", err, problem)
	}
	resumes := 0
	for _, r := range recs {
		if r.Action == "rotate.resume" {
			resumes++
		}
	}
	if resumes != 2*len(steps) {
		t.Errorf("%d resumes recorded, want %d", resumes, 2*len(steps))
	}
	// status and plan
	out, code, _ = cli.run(nil, "rotate", "status")
	if code != 0 || !strings.Contains(out, rotationtest.Role) {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	out, code, _ = cli.run(nil, append([]string{"rotate", "plan", "--format", "markdown"}, role...)...)
	if code != 0 || !strings.Contains(out, "| 3 | cutover |") {
		t.Errorf("plan: exit %d\n%s", code, out)
	}
}
