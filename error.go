package credscan

import (
	"errors"
	"fmt"
)

// ErrUsage marks errors in how credscan was called or configured (exit code 2).
var ErrUsage = errors.New("usage")

// UsageError wraps err as a usage or configuration error.
func UsageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// ItemError is a problem with one item of a source (a file, a layer, a git
// object) that was skipped while the scan went on. Its message names the
// item and never holds its content.
type ItemError struct {
	Origin Origin
	Err    error
}

func (e *ItemError) Error() string {
	loc := e.Origin.String()
	if loc == "" {
		loc = string(e.Origin.Kind)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *ItemError) Unwrap() error { return e.Err }
