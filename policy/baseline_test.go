package policy

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/credscan/credscan"
)

// A baselined finding whose path is not UTF-8 (a Latin-1 file name) stays
// baselined after the file is written and read: its path is kept as bytes
// (JSON replaced the byte with U+FFFD, and the finding blocked again).
func TestBaselineKeepsNonUTF8Paths(t *testing.T) {
	fs := []*credscan.Finding{
		{RuleID: "pg-env", Fingerprint: "aa", Database: true, Origin: credscan.Origin{Path: "conf/caf\xe9.env", Line: 3}},
		{RuleID: "pg-env", Fingerprint: "bb", Database: true, Origin: credscan.Origin{Path: "conf/plain.env", Line: 1}},
	}
	file := filepath.Join(t.TempDir(), "baseline.json")
	if err := WriteBaseline(file, NewBaseline(fs, time.Unix(0, 0))); err != nil {
		t.Fatal(err)
	}
	p, err := New(nil, file)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Decide(fs) {
		if d.Verdict != Baselined {
			t.Errorf("%q: %v, want baselined", d.Finding.Origin.Path, d.Verdict)
		}
	}
	// a path that differs only in the byte U+FFFD stood for is not baselined
	other := &credscan.Finding{RuleID: "pg-env", Fingerprint: "aa", Database: true, Origin: credscan.Origin{Path: "conf/caf\xe8.env"}}
	if d := p.Decide([]*credscan.Finding{other}); d[0].Verdict == Baselined {
		t.Errorf("another non-UTF-8 path matched")
	}
}
