package engine

import (
	"context"
	"testing"

	"github.com/credscan/credscan"
)

// A gitleaks unit whose findings in an item all lose to another finding
// of the same secret at the same place (the DB pack's) is left out of the
// item's hint; one whose finding is reported, or stands beside the DB
// pack's, is kept. (TestHintedScanIsTheScan checks that the hinted scans
// report what whole ones do.)
func TestDominatedUnitsLeaveTheHint(t *testing.T) {
	e := loadedEngine(t, Options{MaxDecodeDepth: 5, Workers: 1})
	glOnly := loadedEngine(t, Options{Rules: RulesGitleaks, MaxDecodeDepth: 5, Workers: 1})
	generic := uint64(1) << (e.gl.unitOf["generic-api-key"] % 64)
	for _, c := range []struct {
		name, text string
		keep       bool // generic-api-key's unit stays in the hint
	}{
		{"dominated", "DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD=Kq7vLp2xWz9mNb4t\n", false},
		{"alone", "api_key = \"Zr8TqW3nLx6VbP1sKd4Hy7Mc\"\n", true},
		{"beside", "DB_PASSWORD=Kq7vLp2xWz9mNb4t\napi_key = \"Zr8TqW3nLx6VbP1sKd4Hy7Mc\"\n", true},
	} {
		ch := credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: c.name + ".env"}, Data: []byte(c.text), StartLine: 1, Whole: true}
		res := NewResults()
		glOnly.ScanChunk(context.Background(), ch, res)
		if len(res.Findings) == 0 || res.Findings[0].RuleID != "generic-api-key" {
			t.Fatalf("%s: generic-api-key finds nothing there", c.name)
		}
		learned, whole := e.scanChunk(context.Background(), ch, NewResults(), nil)
		if !whole {
			t.Fatalf("%s: not a whole scan", c.name)
		}
		if got := learned.Units&generic != 0; got != c.keep {
			t.Errorf("%s: generic-api-key in the hint %v, want %v (hint %+v)", c.name, got, c.keep, learned)
		}
	}
}
