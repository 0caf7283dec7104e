package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// Columns count from 1 on every line, also on a line that is not the first
// of the window gitleaks' rules ran on (gitleaks counts one more there).
func TestColumnsFromOne(t *testing.T) {
	e := scantest.Engine(t, engine.RulesGitleaks)
	tok := func(c byte) string { return "ghp_" + string(c) + "8WKQQ6IRh7LRgeZvO9MqMI5pgV8gs193xQ" + string(c) }
	lines := []string{"first := \"" + tok('a') + "\"", "    second := \"" + tok('b') + "\"", "x", "        third := " + tok('c')}
	res := engine.NewResults()
	e.ScanChunk(context.Background(), credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: "a.go"}, Data: []byte(strings.Join(lines, "\n") + "\n"), StartLine: 1, Whole: true}, res)
	res.Finish()
	got := map[int]int{}
	for _, f := range res.Findings {
		if f.RuleID == "github-pat" {
			got[f.Origin.Line] = f.Column
		}
	}
	for i, l := range lines {
		if k := strings.Index(l, "ghp_"); k >= 0 && got[i+1] != k+1 {
			t.Errorf("line %d: column %d, want %d (found: %v)", i+1, got[i+1], k+1, got)
		}
	}
}
