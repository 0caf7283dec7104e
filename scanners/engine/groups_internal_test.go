package engine

import (
	"context"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
)

// otherGrouper is a credscan.LineGrouper that is not an engine's.
type otherGrouper struct{}

func (otherGrouper) LineGroups(data []byte, dst []uint8) []uint8 { return dst[:0] }

// A chunk's LineGroups stand in for the engine's keyword matcher only
// when its own grouper made them and there is one per line: another's
// are looked for again.
func TestGivenGroupsOnlyTheEngines(t *testing.T) {
	e := loadedEngine(t, Options{Workers: 1})
	data := []byte("# settings\nDATABASE_URL=postgres://arp_app:" + leakcheck.Secret(t) + "@arp-db.prod.internal:5432/arp\n")
	found := func(groups []uint8, by credscan.LineGrouper) int {
		res := NewResults()
		e.ScanChunk(context.Background(), credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindGit, Path: "app.env"}, Data: data,
			StartLine: 1, Whole: true, LineStarts: []int{0, 11}, LineGroups: groups, GroupedBy: by}, res)
		return len(res.Findings)
	}
	own := e.grouper.LineGroups(data, nil)
	if len(own) != 2 || own[1] == 0 {
		t.Fatalf("the engine's groups %v: the URL's line wakes nothing", own)
	}
	none := []uint8{0, 0}
	for _, c := range []struct {
		name   string
		groups []uint8
		by     credscan.LineGrouper
		want   int
	}{
		{"no groups", nil, nil, 1},
		{"the engine's", own, e.grouper, 1},
		{"another grouper's", none, otherGrouper{}, 1},
		{"another engine's", none, loadedEngine(t, Options{Workers: 1}).grouper, 1},
		{"too few", []uint8{0}, e.grouper, 1},
		{"the engine's, saying no line wakes a rule", none, e.grouper, 0}, // (they are used)
	} {
		if got := found(c.groups, c.by); got != c.want {
			t.Errorf("%s: %d findings, want %d", c.name, got, c.want)
		}
	}
}
