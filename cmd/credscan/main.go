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
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/report"
	gitsrc "github.com/credscan/credscan/scanners/git"
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
	dirty := false
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && commit == "none":
			commit = s.Value
		case s.Key == "vcs.time" && date == "unknown":
			date = s.Value
		case s.Key == "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && commit != "none" {
		commit += "+dirty"
	}
}

// writeAllocs writes a heap profile (what the run allocated, by place) to
// file when it is set (CREDSCAN_MEMPROFILE); like the CPU profile, it
// holds code locations, never content.
func writeAllocs(file string) {
	if file == "" {
		return
	}
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "credscan: CREDSCAN_MEMPROFILE:", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "credscan: CREDSCAN_MEMPROFILE:", err)
	}
}

// startProfile writes a CPU profile of the run to file when it is set
// (CREDSCAN_CPUPROFILE, for docs/performance.md's measurements on real
// repositories); the profile holds code locations, never content.
func startProfile(file string) func() {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "credscan: CREDSCAN_CPUPROFILE:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// Exit codes: the README's table.
const (
	exitOK          = 0   // nothing blocking
	exitBlocking    = 1   // blocking findings
	exitUsage       = 2   // usage or configuration error (also: not found, permission denied)
	exitPartial     = 3   // the scan finished but some items could not be read
	exitVault       = 4   // a Vault push left credentials unwritten (they are listed)
	exitUnavailable = 5   // a service credscan needs (Vault, a registry, a database) could not be reached
	exitRefused     = 6   // refused by a safety gate, or someone else changed the state first
	exitIntegrity   = 7   // data that must verify does not (a tampered audit log)
	exitInterrupted = 130 // interrupted (SIGINT, SIGTERM): the report, if any, is marked incomplete
)

// exitCode maps an error to the process exit code. It is the only place
// that does.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, estate.ErrInterrupted):
		return exitInterrupted
	case errors.Is(err, estate.ErrBlocking):
		return exitBlocking
	case errors.Is(err, estate.ErrPartial):
		return exitPartial
	case errors.As(err, new(*estate.PushError)):
		return exitVault
	}
	switch credscan.CodeOf(err) {
	case credscan.CodeUnavailable:
		return exitUnavailable
	case credscan.CodeRefused, credscan.CodeConflict:
		return exitRefused
	case credscan.CodeIntegrity:
		return exitIntegrity
	case credscan.CodeCanceled:
		return exitInterrupted
	}
	return exitUsage
}

// printsError says whether main prints err (the codes whose command
// printed a report instead do not).
func printsError(code int) bool {
	return code != exitOK && code != exitBlocking && code != exitPartial
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

// gitEnv applies the environment's switches for history scans to o:
// $CREDSCAN_GIT_OBJECTS=go-git reads objects with go-git alone.
func gitEnv(o *gitsrc.Options) {
	if os.Getenv("CREDSCAN_GIT_OBJECTS") == "go-git" {
		o.Git = gitsrc.GoGit
	}
}

func main() {
	if os.Getenv("GOGC") == "" {
		// a scan allocates little but holds a history walk's state and
		// go-git's caches: collecting sooner keeps the peak near the live
		// heap (161 MB against 193 MB on the benchmark history) at the
		// same speed
		debug.SetGCPercent(60)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	stopProfile := startProfile(os.Getenv("CREDSCAN_CPUPROFILE"))
	err := newRootCmd().ExecuteContext(ctx)
	stopProfile()
	writeAllocs(os.Getenv("CREDSCAN_MEMPROFILE"))
	stop()
	code := exitCode(err)
	if err != nil && printsError(code) {
		fmt.Fprintln(os.Stderr, "credscan:", visibleLines(err.Error()))
	}
	os.Exit(code)
}
