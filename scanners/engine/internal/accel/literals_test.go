package accel

import (
	"reflect"
	"sort"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		re   string
		want []string
	}{
		{`gitleaks\.toml`, []string{"gitleaks.toml"}},
		{`(?i)\.(?:bmp|gif|jpe?g|png)$`, []string{"bmp", "gif", "jp", "png"}},
		{`(?:^|/)node_modules(?:/.*)?$`, []string{"node_modules"}},
		{`(?i)(?:^|/)[a-z0-9_.]+-[0-9.]+\.dist-info(?:/.+)?$`, []string{".dist-info"}},
		{`go\.(?:mod|sum|work(?:\.sum)?)$`, []string{"go."}},
		{`(?i)KEY`, []string{"key"}},
		{`a|.*`, nil},  // the second branch needs nothing
		{`x\d+y`, nil}, // single characters are not worth a check
		{`[`, nil},     // not a regular expression
		{`(ab)+c?`, []string{"ab"}},
	} {
		got := RequiredLiterals(tc.re)
		sort.Strings(got)
		sort.Strings(tc.want)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("RequiredLiterals(%q) = %q, want %q", tc.re, got, tc.want)
		}
	}
}

func TestMaxMatchLen(t *testing.T) {
	for expr, want := range map[string]int{
		`abc`:                       3,
		`(?i)abc`:                   3,
		`a[0-9]{4}`:                 5,
		`a[0-9]{4,8}b?`:             10,
		`\b(ey[a-z]{17,}\.ey)`:      -1,
		`x+`:                        -1,
		`(?:foo|quux)[\w.-]{0,50}?`: 54,
		`é`:                         2,
		`^a$`:                       1,
		`[^a]`:                      4,
		`(?i)k`:                     3, // the Kelvin sign folds with k
	} {
		if got := MaxMatchLen(expr); got != want {
			t.Errorf("MaxMatchLen(%q) = %d, want %d", expr, got, want)
		}
	}
}
