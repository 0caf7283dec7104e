package credscan

import (
	"context"
	"errors"
	"fmt"
)

// Code says what kind of failure an error is, so that callers (the TUI, a
// rotation, the command's exit codes) can tell a conflict from a refusal
// from an outage without reading messages.
type Code uint8

// Error codes.
const (
	CodeUnknown      Code = iota
	CodeInvalid           // how credscan was called or configured
	CodeNotFound          // what was asked for does not exist
	CodeConflict          // someone else wrote first (check-and-set)
	CodeUnauthorized      // permission denied
	CodeUnavailable       // a service (Vault, a registry, a database) cannot be reached or is sealed
	CodeRefused           // a safety gate said no
	CodeIntegrity         // data that must verify does not (a tampered audit log)
	CodeCanceled          // interrupted
)

var codeNames = [...]string{"unknown", "invalid", "not found", "conflict", "unauthorized", "unavailable", "refused", "integrity", "canceled"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", c)
}

// Error is a failure with its code, the operation that failed (an action:
// "listing Vault audit devices") and its cause. errors.Is and errors.As
// see through it. Its message never holds a secret: causes are wrapped
// only once they are free of one.
type Error struct {
	Code Code
	Op   string
	Err  error
}

func (e *Error) Error() string {
	switch {
	case e.Op == "":
		return e.Err.Error()
	case e.Err == nil:
		return e.Op
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes every invalid-code error match ErrUsage.
func (e *Error) Is(target error) bool { return target == ErrUsage && e.Code == CodeInvalid }

// E returns an *Error; a nil err gives nil.
func E(code Code, op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Op: op, Err: err}
}

// Errorf returns an *Error with code whose cause is formatted (%w wraps).
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain; an
// interruption (context.Canceled) is CodeCanceled.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeUnknown {
		return e.Code
	}
	if errors.Is(err, context.Canceled) {
		return CodeCanceled
	}
	return CodeUnknown
}

// ErrUsage matches errors in how credscan was called or configured.
var ErrUsage = errors.New("usage")

// UsageError returns a CodeInvalid error with a formatted message (%w
// wraps).
func UsageError(format string, args ...any) error {
	return Errorf(CodeInvalid, format, args...)
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
