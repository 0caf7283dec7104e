// Package leakcheck plants random secrets for tests and asserts that no
// output holds them, in plain text or in the encodings a secret is written
// in (percent, base64). Its failure messages never print a secret.
package leakcheck

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

// Secret returns a random password of obviously generated shape that
// contains characters needing percent-encoding. Its random parts are hex,
// so it can never read as a placeholder ("xxx", "fake", …) to the rule
// pack, which would make tests fail at random.
func Secret(t testing.TB) string {
	t.Helper()
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(b)
	return "Pw" + h[:10] + "@#Q" + h[10:16]
}

// Forms returns the secret and its encodings that must never appear.
func Forms(secret string) []string {
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(secret)))
		// the secret inside a longer base64 text at every alignment
		for pad := 1; pad <= 2; pad++ {
			s := enc.EncodeToString([]byte(strings.Repeat("x", pad) + secret))
			forms = append(forms, s[4:len(s)-4])
		}
	}
	return forms
}

// AssertNone fails t when output (named what) holds any secret in any form.
func AssertNone(t testing.TB, what string, output []byte, secrets ...string) {
	t.Helper()
	s := string(output)
	for i, sec := range secrets {
		for j, f := range Forms(sec) {
			if len(f) >= 6 && strings.Contains(s, f) {
				t.Errorf("%s holds planted secret #%d (encoding #%d) — output not shown", what, i, j)
			}
		}
	}
}
