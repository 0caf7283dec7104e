package kv_test

import (
	"context"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/vaultsync/kv"
)

func testDryRun(t *testing.T, inner kv.KV) {
	ctx := context.Background()
	p := "dryrun-" + strings.ReplaceAll(t.Name(), "/", "-")
	if _, err := inner.Put(ctx, p+"/a", map[string]any{"v": "1"}, 0); err != nil {
		t.Fatal(err)
	}
	d := kv.NewDryRun(inner)
	if v, err := d.Put(ctx, p+"/a", map[string]any{"v": "2"}, 1); err != nil || v != 1 {
		t.Fatalf("dry put: %d %v", v, err)
	}
	if v, err := d.Put(ctx, p+"/new", map[string]any{"v": "1"}, 0); err != nil || v != 0 {
		t.Fatalf("dry create: %d %v", v, err)
	}
	if _, err := d.Put(ctx, p+"/a", map[string]any{"v": "2"}, 0); credscan.CodeOf(err) != credscan.CodeConflict {
		t.Fatalf("a dry run of a stale cas: %v", err)
	}
	if err := d.PatchMetadata(ctx, p+"/a", kv.MetadataPatch{Custom: map[string]string{"k": strings.Repeat("x", 600)}}); credscan.CodeOf(err) != credscan.CodeInvalid {
		t.Fatalf("a dry run over limits: %v", err)
	}
	if err := d.PatchMetadata(ctx, p+"/a", kv.MetadataPatch{Custom: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	got, err := inner.Get(ctx, p+"/a")
	if err != nil || got.Version != 1 || got.Data["v"] != "1" {
		t.Fatalf("the dry run wrote: %+v %v", got, err)
	}
	if _, err := inner.Get(ctx, p+"/new"); credscan.CodeOf(err) != credscan.CodeNotFound {
		t.Fatalf("the dry run created: %v", err)
	}
	if md, _ := inner.Metadata(ctx, p+"/a"); md.Custom["k"] != "" {
		t.Fatal("the dry run patched metadata")
	}
	if len(d.Planned()) != 3 {
		t.Errorf("planned %q", d.Planned())
	}
}
