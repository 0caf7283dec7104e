package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan/internal/leakcheck"
)

// Need returns the path of a program a test cannot run without: in the
// fast tier (-short) the test is skipped; when the program is missing it
// fails with the package to install under CI (CI=true, or
// CREDSCAN_REQUIRE_E2E), else it is skipped with that advice.
func Need(t testing.TB, program, pkg string) string {
	t.Helper()
	Short(t, program)
	p, err := exec.LookPath(program)
	if err != nil {
		msg := fmt.Sprintf("%s is not installed (apt-get install %s; .ci/run installs it)", program, pkg)
		if os.Getenv("CI") != "" || os.Getenv("CREDSCAN_REQUIRE_E2E") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// Tmux is a program running in a detached tmux session of its own
// server (a private socket), the terminal a person would use.
type Tmux struct {
	// Secrets are leak-checked in every capture: a screen holding one
	// fails the test and is never printed.
	Secrets []string
	t       testing.TB
	bin     string
	socket  string
	session string
}

// StartTmux runs argv (with env added) in a width x height terminal.
func StartTmux(t testing.TB, width, height int, env []string, argv ...string) *Tmux {
	t.Helper()
	bin := Need(t, "tmux", "tmux")
	x := &Tmux{t: t, bin: bin, socket: "credscan-test-" + randHex(6), session: "credscan"}
	cmd := append([]string{"env"}, env...)
	cmd = append(cmd, argv...)
	args := append([]string{"new-session", "-d", "-s", x.session, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height)}, cmd...)
	if out, err := x.tmux(args...); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	// keep the pane after the program exits, to read its last screen
	_, _ = x.tmux("set-option", "-t", x.session, "remain-on-exit", "on")
	t.Cleanup(func() { _, _ = x.tmux("kill-server") })
	return x
}

func (x *Tmux) tmux(args ...string) (string, error) {
	cmd := exec.Command(x.bin, append([]string{"-L", x.socket, "-f", "/dev/null"}, args...)...)
	cmd.Env = append(os.Environ(), "TMUX=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Keys sends tmux key names ("Enter", "Escape", "Down", "Space", "/").
func (x *Tmux) Keys(keys ...string) {
	x.t.Helper()
	for _, k := range keys {
		if out, err := x.tmux("send-keys", "-t", x.session, k); err != nil {
			x.t.Fatalf("tmux send-keys %s: %v: %s", k, err, out)
		}
		// a person's pace: one key, one frame; after Escape longer, or the
		// next key reads as Alt+key (how terminals send Alt)
		pause := 30 * time.Millisecond
		if k == "Escape" {
			pause = 250 * time.Millisecond
		}
		time.Sleep(pause)
	}
}

// Type sends text literally.
func (x *Tmux) Type(text string) {
	x.t.Helper()
	if out, err := x.tmux("send-keys", "-t", x.session, "-l", text); err != nil {
		x.t.Fatalf("tmux send-keys -l: %v: %s", err, out)
	}
}

// Capture returns the screen as text, leak-checked.
func (x *Tmux) Capture() string {
	x.t.Helper()
	out, err := x.tmux("capture-pane", "-p", "-t", x.session)
	if err != nil {
		x.t.Fatalf("tmux capture-pane: %v", err)
	}
	leakcheck.AssertNone(x.t, "the terminal", []byte(out), x.Secrets...)
	return out
}

// leaks says whether screen holds a secret (then it is not printed).
func (x *Tmux) leaks(screen string) bool {
	for _, s := range x.Secrets {
		for _, f := range leakcheck.Forms(s) {
			if len(f) >= 6 && strings.Contains(screen, f) {
				return true
			}
		}
	}
	return false
}

// WaitFor waits until the screen shows every one of want, and returns
// it; it fails with the last screen after timeout (the caller
// leak-checks what it captures: the screen is shown only on failure).
func (x *Tmux) WaitFor(timeout time.Duration, want ...string) string {
	x.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		screen := x.Capture()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		if ok {
			return screen
		}
		if time.Now().After(deadline) {
			if x.leaks(screen) {
				screen = "(withheld: it holds a planted secret)"
			}
			x.t.Fatalf("the terminal never showed %q; it shows:\n%s", want, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Exited says whether the program has exited (remain-on-exit keeps the
// pane).
func (x *Tmux) Exited() bool {
	out, err := x.tmux("display-message", "-p", "-t", x.session, "#{pane_dead}")
	return err != nil || strings.TrimSpace(out) == "1"
}
