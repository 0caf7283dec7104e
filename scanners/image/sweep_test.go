package image

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
	"github.com/credscan/credscan/scanners/rules"
)

// A known password is found wherever an image holds it: in a compiled
// class inside a jar inside a layer, and base64-encoded in a layer's
// bundle, where no rule looks.
func TestSweepReadsLayersAndJarMembers(t *testing.T) {
	secret := leakcheck.Secret(t)
	class := "\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x12\x01\x00" + secret + "\x00\x07"
	layer := tarLayer(t, map[string][]byte{
		"app/app.jar":           jar(t, map[string]string{"BOOT-INF/classes/com/acme/Db.class": class}),
		"app/static/main.js":    []byte(`var c=atob("` + base64.StdEncoding.EncodeToString([]byte("{\"pw\":\""+secret+"\"}")) + `");`),
		"app/static/readme.txt": []byte("nothing here\n"),
	})
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	dir := ociLayout(t, img)
	e := scantest.Engine(t, "")
	set, _ := e.Compile([]engine.Known{{Secret: secret}})
	e.SetKnown(set)
	s, err := New([]string{"oci:" + dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := engine.NewResults()
	if err := e.Scan(context.Background(), s, res); err != nil {
		t.Fatal(err)
	}
	// --sweep's second pass reads the same scanner again
	again := engine.NewResults()
	if err := e.Sweep(context.Background(), s, again, set); err != nil {
		t.Fatal(err)
	}
	if n := len(again.Findings); n < 2 || again.Stats.Items != 0 {
		t.Fatalf("a second read found %d copies and counted %d items: want the copies again, nothing counted", n, again.Stats.Items)
	}
	res.Findings = s.Attribute(res.Findings)
	res.Finish()
	got := map[string]string{}
	for _, f := range res.Findings {
		if f.RuleID == rules.KnownSecret {
			got[f.Origin.Path] = strings.Join(f.Tags, ",")
			leakcheck.AssertNone(t, "redacted", []byte(f.Redacted), secret)
		}
	}
	var inClass, js bool
	for p, tags := range got {
		inClass = inClass || strings.Contains(p, "Db.class") && strings.Contains(tags, "binary")
		js = js || strings.HasSuffix(p, "main.js") && strings.Contains(tags, "encoding:base64")
	}
	if !inClass || !js {
		t.Fatalf("known-secret copies %v: want the jar's class (binary) and the bundle (base64)", got)
	}
}
