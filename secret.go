package credscan

import (
	"fmt"
	"log/slog"
)

// redactedText is what a Secret prints through every formatting path.
const redactedText = "**redacted**"

// Secret holds a plaintext credential. It cannot print itself: String,
// GoString, Format, MarshalJSON, MarshalText and LogValue all yield
// "**redacted**". Only vaultsync and rotation call Reveal.
//
// A Secret is immutable and safe for concurrent use.
type Secret struct{ v *string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: &s} }

// Reveal returns the plaintext. Callers must not log or print it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// Empty reports whether the secret holds no value.
func (s Secret) Empty() bool { return s.v == nil || *s.v == "" }

// Len is the length in bytes of the plaintext.
func (s Secret) Len() int {
	if s.v == nil {
		return 0
	}
	return len(*s.v)
}

func (Secret) String() string               { return redactedText }
func (Secret) GoString() string             { return redactedText }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redactedText + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redactedText), nil }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redactedText) }
func (Secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redactedText)) }

var (
	_ fmt.Stringer   = Secret{}
	_ fmt.GoStringer = Secret{}
	_ fmt.Formatter  = Secret{}
	_ slog.LogValuer = Secret{}
)
