package git

import (
	"testing"

	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// A blob larger than what is read whole, of lines of megabytes, is
// streamed in chunks; every DSN in it, at random places and across every
// chunk boundary, is reported once, at its line and column.
func TestLongLinesInHistory(t *testing.T) {
	data, planted := scantest.BigLongLineFile(t, 3)
	r := newRepo(t)
	r.Commit("Alice", map[string]string{"dump.sql": string(data)})
	res, _, _ := scanWith(t, scantest.Engine(t, engine.RulesDB), r.Dir, Options{}, nil)
	scantest.CheckPlanted(t, "history", res.Findings, planted)
}
