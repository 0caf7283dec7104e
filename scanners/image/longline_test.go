package image

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// A layer's file larger than what is read whole, of lines of megabytes,
// is streamed in chunks; every DSN in it, at random places and across
// every chunk boundary, is reported once, at its line and column.
func TestLongLinesInLayer(t *testing.T) {
	data, planted := scantest.BigLongLineFile(t, 5)
	img, err := mutate.AppendLayers(empty.Image, scantest.TarLayer(t, map[string][]byte{"srv/dump.sql": data}))
	if err != nil {
		t.Fatal(err)
	}
	dir := ociLayout(t, img)
	s, err := New([]string{"oci:" + dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := engine.NewResults()
	if err := scantest.Engine(t, engine.RulesDB).Scan(context.Background(), s, res); err != nil {
		t.Fatal(err)
	}
	res.Findings = s.Attribute(res.Findings)
	res.Finish()
	scantest.CheckPlanted(t, "layer", res.Findings, planted)
}
