// Command credscan finds database credentials hardcoded across an estate's
// applications. This package is cobra wiring only: flags become options,
// and errors become exit codes in exitCode.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/credscan/credscan/report"
)

// Set by the release build (-ldflags "-X main.version=…"); otherwise
// filled from the module version and the VCS stamp Go puts in builds.
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func init() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version // go install …@v1.2.3
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && commit == "none":
			commit = s.Value
		case s.Key == "vcs.time" && date == "unknown":
			date = s.Value
		}
	}
}

// Exit codes.
const (
	exitOK          = 0
	exitBlocking    = 1   // blocking findings
	exitUsage       = 2   // usage or configuration error
	exitPartial     = 3   // the scan finished but some items could not be read
	exitVault       = 4   // a Vault push left credentials unwritten (they are listed)
	exitInterrupted = 130 // interrupted (SIGINT, SIGTERM): the report, if any, is marked incomplete
)

var (
	errBlocking    = errors.New("blocking findings")
	errPartial     = errors.New("some items could not be read")
	errInterrupted = errors.New("interrupted")
)

// exitCode maps an error to the process exit code. It is the only place
// that does.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.Is(err, errBlocking):
		return exitBlocking
	case errors.Is(err, errPartial):
		return exitPartial
	case errors.As(err, new(*vaultFailure)):
		return exitVault
	default:
		return exitUsage
	}
}

// visibleLines is report.Visible line by line: an error's own line
// breaks stay, nothing else it quotes can control the terminal.
func visibleLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = report.Visible(l)
	}
	return strings.Join(lines, "\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	code := exitCode(err)
	if err != nil && (code == exitUsage || code == exitVault || code == exitInterrupted) {
		fmt.Fprintln(os.Stderr, "credscan:", visibleLines(err.Error()))
	}
	os.Exit(code)
}
