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
	"syscall"
)

// Set by the release build (-ldflags "-X main.version=…").
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// Exit codes.
const (
	exitOK       = 0
	exitBlocking = 1 // blocking findings
	exitUsage    = 2 // usage or configuration error
	exitPartial  = 3 // the scan finished but some items could not be read
)

var (
	errBlocking = errors.New("blocking findings")
	errPartial  = errors.New("some items could not be read")
)

// exitCode maps an error to the process exit code. It is the only place
// that does.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errBlocking):
		return exitBlocking
	case errors.Is(err, errPartial):
		return exitPartial
	default:
		return exitUsage
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	code := exitCode(err)
	if err != nil && code == exitUsage {
		fmt.Fprintln(os.Stderr, "credscan:", err)
	}
	os.Exit(code)
}
