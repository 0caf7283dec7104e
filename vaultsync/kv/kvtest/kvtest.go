// Package kvtest is the conformance suite every kv.KV implementation
// passes: the in-memory one in milliseconds, Vault's against the real
// server.
package kvtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/vaultsync/kv"
)

// Run runs the suite against the store newKV returns. Each subtest works
// under its own random prefix, so one store may serve them all.
func Run(t *testing.T, newKV func(t *testing.T) kv.KV) {
	for _, c := range []struct {
		name string
		f    func(t *testing.T, s kv.KV, p string)
	}{
		{"NotFoundIsTyped", notFoundIsTyped},
		{"CreateOnly", createOnly},
		{"StaleCASWritesNothing", staleCAS},
		{"HistoryInOrder", history},
		{"DataAsJSON", dataAsJSON},
		{"MetadataLimits", metadataLimits},
		{"MaxVersions", maxVersions},
		{"List", list},
		{"ConcurrentCAS", concurrentCAS},
		{"Canceled", canceled},
		{"BadPaths", badPaths},
		{"MetadataBeforeData", metadataBeforeData},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.f(t, newKV(t), "kvtest-"+randHex(6))
		})
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func wantCode(t *testing.T, what string, err error, code credscan.Code) {
	t.Helper()
	if got := credscan.CodeOf(err); got != code {
		t.Fatalf("%s: code %v (%v), want %v", what, got, err, code)
	}
}

var ctx = context.Background()

func notFoundIsTyped(t *testing.T, s kv.KV, p string) {
	_, err := s.Get(ctx, p+"/missing")
	wantCode(t, "Get", err, credscan.CodeNotFound)
	_, err = s.GetVersion(ctx, p+"/missing", 1)
	wantCode(t, "GetVersion", err, credscan.CodeNotFound)
	_, err = s.Metadata(ctx, p+"/missing")
	wantCode(t, "Metadata", err, credscan.CodeNotFound)
	if _, err := s.Put(ctx, p+"/x", map[string]any{"a": "1"}, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetVersion(ctx, p+"/x", 7)
	wantCode(t, "GetVersion of a version that does not exist", err, credscan.CodeNotFound)
}

func createOnly(t *testing.T, s kv.KV, p string) {
	path := p + "/app"
	if v, err := s.Put(ctx, path, map[string]any{"who": "first"}, 0); err != nil || v != 1 {
		t.Fatalf("create: %d %v", v, err)
	}
	_, err := s.Put(ctx, path, map[string]any{"who": "second"}, 0)
	wantCode(t, "a second create", err, credscan.CodeConflict)
	got, err := s.Get(ctx, path)
	if err != nil || got.Version != 1 || got.Data["who"] != "first" {
		t.Fatalf("after a refused create: %+v %v", got, err)
	}
}

func staleCAS(t *testing.T, s kv.KV, p string) {
	path := p + "/state"
	v1, err := s.Put(ctx, path, map[string]any{"n": "1"}, 0)
	if err != nil || v1 != 1 {
		t.Fatalf("create: %d %v", v1, err)
	}
	v2, err := s.Put(ctx, path, map[string]any{"n": "2"}, v1)
	if err != nil || v2 != 2 {
		t.Fatalf("cas 1: %d %v", v2, err)
	}
	_, err = s.Put(ctx, path, map[string]any{"n": "stale"}, v1)
	wantCode(t, "a stale cas", err, credscan.CodeConflict)
	got, err := s.Get(ctx, path)
	if err != nil || got.Version != 2 || got.Data["n"] != "2" {
		t.Fatalf("a stale cas wrote: %+v %v", got, err)
	}
	md, err := s.Metadata(ctx, path)
	if err != nil || md.Current != 2 || len(md.Versions) != 2 {
		t.Fatalf("metadata after a stale cas: %+v %v", md, err)
	}
	v3, err := s.Put(ctx, path, map[string]any{"n": "3"}, kv.Any)
	if err != nil || v3 != 3 {
		t.Fatalf("cas Any: %d %v", v3, err)
	}
}

func history(t *testing.T, s kv.KV, p string) {
	path := p + "/hist"
	start := time.Now().Add(-time.Minute)
	for i := 1; i <= 4; i++ {
		if _, err := s.Put(ctx, path, map[string]any{"i": fmt.Sprint(i)}, i-1); err != nil {
			t.Fatal(err)
		}
	}
	md, err := s.Metadata(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if md.Current != 4 || len(md.Versions) != 4 {
		t.Fatalf("metadata: %+v", md)
	}
	for i, v := range md.Versions {
		if v.Version != i+1 || v.Created.Before(start) || i > 0 && v.Created.Before(md.Versions[i-1].Created) || v.Deleted || v.Destroyed {
			t.Errorf("version %d: %+v", i+1, v)
		}
	}
	for i := 1; i <= 4; i++ {
		sec, err := s.GetVersion(ctx, path, i)
		if err != nil || sec.Data["i"] != fmt.Sprint(i) || sec.Version != i || sec.Created.IsZero() {
			t.Errorf("GetVersion(%d): %+v %v", i, sec, err)
		}
	}
}

func dataAsJSON(t *testing.T, s kv.KV, p string) {
	path := p + "/json"
	in := map[string]any{"s": "x", "n": 42, "f": 1.5, "b": true, "l": []string{"a", "b"}, "m": map[string]any{"k": "v"}, "h": []map[string]any{{"line": 3}}}
	if _, err := s.Put(ctx, path, in, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["n"] != json.Number("42") || got.Data["f"] != json.Number("1.5") || got.Data["b"] != true || got.Data["s"] != "x" {
		t.Errorf("scalars: %#v", got.Data)
	}
	if l, ok := got.Data["l"].([]any); !ok || len(l) != 2 || l[0] != "a" {
		t.Errorf("list: %#v", got.Data["l"])
	}
	if m, ok := got.Data["m"].(map[string]any); !ok || m["k"] != "v" {
		t.Errorf("map: %#v", got.Data["m"])
	}
	if h, ok := got.Data["h"].([]any); !ok || len(h) != 1 || h[0].(map[string]any)["line"] != json.Number("3") {
		t.Errorf("list of maps: %#v", got.Data["h"])
	}
}

func metadataLimits(t *testing.T, s kv.KV, p string) {
	path := p + "/meta"
	if _, err := s.Put(ctx, path, map[string]any{"a": "1"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PatchMetadata(ctx, path, kv.MetadataPatch{Custom: map[string]string{"owner": "team-a", "wave": "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PatchMetadata(ctx, path, kv.MetadataPatch{Custom: map[string]string{"wave": "2", "owner": ""}}); err != nil {
		t.Fatal(err)
	}
	md, err := s.Metadata(ctx, path)
	if err != nil || md.Custom["wave"] != "2" || md.Custom["owner"] != "" || len(md.Custom) != 1 {
		t.Fatalf("custom metadata: %+v %v", md, err)
	}
	many := map[string]string{}
	for i := 0; i < kv.MaxCustomKeys; i++ { // with "wave": one too many
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	err = s.PatchMetadata(ctx, path, kv.MetadataPatch{Custom: many})
	wantCode(t, "65 keys", err, credscan.CodeInvalid)
	if !strings.Contains(err.Error(), "64") {
		t.Errorf("the error does not name the limit: %v", err)
	}
	err = s.PatchMetadata(ctx, path, kv.MetadataPatch{Custom: map[string]string{"long": strings.Repeat("x", kv.MaxCustomValueLen+1)}})
	wantCode(t, "a 513-byte value", err, credscan.CodeInvalid)
	err = s.PatchMetadata(ctx, path, kv.MetadataPatch{Custom: map[string]string{strings.Repeat("k", kv.MaxCustomKeyLen+1): "v"}})
	wantCode(t, "a 129-byte key", err, credscan.CodeInvalid)
	md, err = s.Metadata(ctx, path)
	if err != nil || len(md.Custom) != 1 {
		t.Fatalf("a refused patch wrote: %+v %v", md.Custom, err)
	}
	// exactly at the limits is fine
	if err := s.PatchMetadata(ctx, path, kv.MetadataPatch{Custom: map[string]string{"long": strings.Repeat("x", kv.MaxCustomValueLen)}}); err != nil {
		t.Fatal(err)
	}
}

func maxVersions(t *testing.T, s kv.KV, p string) {
	path := p + "/capped"
	if _, err := s.Put(ctx, path, map[string]any{"i": "1"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PatchMetadata(ctx, path, kv.MetadataPatch{MaxVersions: 3}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 5; i++ {
		if _, err := s.Put(ctx, path, map[string]any{"i": fmt.Sprint(i)}, i-1); err != nil {
			t.Fatal(err)
		}
	}
	md, err := s.Metadata(ctx, path)
	if err != nil || md.Current != 5 || md.MaxVersions != 3 || len(md.Versions) != 3 || md.Versions[0].Version != 3 {
		t.Fatalf("metadata: %+v %v", md, err)
	}
	_, err = s.GetVersion(ctx, path, 2)
	wantCode(t, "a version past max_versions", err, credscan.CodeNotFound)
	// the default keeps 10
	path2 := p + "/default"
	for i := 1; i <= 12; i++ {
		if _, err := s.Put(ctx, path2, map[string]any{"i": fmt.Sprint(i)}, i-1); err != nil {
			t.Fatal(err)
		}
	}
	if md, err := s.Metadata(ctx, path2); err != nil || len(md.Versions) != 10 || md.Versions[0].Version != 3 {
		t.Fatalf("default max_versions: %+v %v", md, err)
	}
}

func list(t *testing.T, s kv.KV, p string) {
	for _, k := range []string{"a/b", "a/c/d", "a/e", "z"} {
		if _, err := s.Put(ctx, p+"/"+k, map[string]any{"k": k}, 0); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List(ctx, p+"/a")
	if err != nil || strings.Join(got, ",") != "b,c/,e" {
		t.Fatalf("List a: %q %v", got, err)
	}
	got, err = s.List(ctx, p)
	if err != nil || strings.Join(got, ",") != "a/,z" {
		t.Fatalf("List: %q %v", got, err)
	}
	got, err = s.List(ctx, p+"/nothing")
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("List of nothing: %q %v", got, err)
	}
}

func concurrentCAS(t *testing.T, s kv.KV, p string) {
	path := p + "/race"
	if _, err := s.Put(ctx, path, map[string]any{"n": "0"}, 0); err != nil {
		t.Fatal(err)
	}
	const writers, rounds = 4, 5
	var mu sync.Mutex
	wins := 0
	for r := 0; r < rounds; r++ {
		cur, err := s.Get(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Put(ctx, path, map[string]any{"n": fmt.Sprint(w)}, cur.Version)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case credscan.CodeOf(err) != credscan.CodeConflict:
					t.Errorf("writer %d: %v", w, err)
				}
			}()
		}
		wg.Wait()
	}
	md, err := s.Metadata(ctx, path)
	if err != nil || wins != rounds || md.Current != rounds+1 {
		t.Fatalf("%d of %d rounds had one winner; current %d: %v", wins, rounds, md.Current, err)
	}
}

func canceled(t *testing.T, s kv.KV, p string) {
	c, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Get(c, p+"/x")
	wantCode(t, "Get with a canceled context", err, credscan.CodeCanceled)
	_, err = s.Put(c, p+"/x", map[string]any{"a": "1"}, 0)
	wantCode(t, "Put with a canceled context", err, credscan.CodeCanceled)
	if _, err := s.Get(ctx, p+"/x"); credscan.CodeOf(err) != credscan.CodeNotFound {
		t.Fatalf("a canceled Put wrote: %v", err)
	}
}

func badPaths(t *testing.T, s kv.KV, p string) {
	for _, bad := range []string{"", "/", p + "//x", p + "/../x", p + "/./x"} {
		_, err := s.Put(ctx, bad, map[string]any{"a": "1"}, kv.Any)
		wantCode(t, fmt.Sprintf("Put %q", bad), err, credscan.CodeInvalid)
	}
}

func metadataBeforeData(t *testing.T, s kv.KV, p string) {
	path := p + "/tracker"
	if err := s.PatchMetadata(ctx, path, kv.MetadataPatch{MaxVersions: 50, Custom: map[string]string{"kind": "tracker"}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(ctx, path)
	wantCode(t, "Get of metadata without data", err, credscan.CodeNotFound)
	if v, err := s.Put(ctx, path, map[string]any{"a": "1"}, 0); err != nil || v != 1 {
		t.Fatalf("create after metadata: %d %v", v, err)
	}
	md, err := s.Metadata(ctx, path)
	if err != nil || md.MaxVersions != 50 || md.Custom["kind"] != "tracker" {
		t.Fatalf("metadata kept: %+v %v", md, err)
	}
}
