package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/credscan/credscan"
)

func zipOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tgzOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for i := 0; i < len(files); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[i+1]))
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

type got struct {
	items  map[string]string // path → the bytes of its chunks
	skip   map[string]string
	errors []string
}

// collect reads data as the archive name, once in place (an io.ReaderAt,
// as a file is) and once as a stream (as a member is), which must agree.
func collect(t *testing.T, l Limits, name string, data []byte) got {
	t.Helper()
	inPlace := collectFrom(t, l, name, bytes.NewReader(data), int64(len(data)))
	streamed := collectFrom(t, l, name, struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data)))
	if !reflect.DeepEqual(inPlace, streamed) {
		t.Fatalf("%s read in place: %+v\nread as a stream: %+v", name, inPlace, streamed)
	}
	return inPlace
}

func collectFrom(t *testing.T, l Limits, name string, r io.Reader, size int64) got {
	t.Helper()
	g := got{items: map[string]string{}, skip: map[string]string{}}
	err := l.Chunks(context.Background(), r, size, credscan.Origin{Path: name}, func(ch credscan.Chunk, err error) error {
		if err != nil {
			var ie *credscan.ItemError
			if !errors.As(err, &ie) {
				t.Fatalf("a non-item error yielded: %v", err)
			}
			g.errors = append(g.errors, ie.Origin.Path+": "+ie.Err.Error())
			return nil
		}
		g.items[ch.Origin.Path] += string(ch.Data[ch.Overlap:])
		if ch.Skip != "" {
			g.skip[ch.Origin.Path] = ch.Skip
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestKindOuterMember(t *testing.T) {
	for _, c := range []struct{ path, kind, outer, member string }{
		{"lib/app.jar", "zip", "lib/app.jar", ""},
		{"lib/App.WAR!WEB-INF/web.xml", "", "lib/App.WAR", "!WEB-INF/web.xml"},
		{"dist/b.zip!x.war!WEB-INF/C.class", "", "dist/b.zip", "!x.war!WEB-INF/C.class"},
		{"charts/db.tgz", "tgz", "charts/db.tgz", ""},
		{"backup.tar.gz!etc/app.conf", "", "backup.tar.gz", "!etc/app.conf"},
		{"notes!important.txt", "", "notes!important.txt", ""},
		{"a.jar.txt", "", "a.jar.txt", ""},
	} {
		if k := Kind(c.path); k != c.kind {
			t.Errorf("Kind(%q) = %q, want %q", c.path, k, c.kind)
		}
		if o, m := Outer(c.path), Member(c.path); o != c.outer || m != c.member || o+m != c.path {
			t.Errorf("%q: outer %q member %q, want %q %q", c.path, o, m, c.outer, c.member)
		}
	}
}

func TestNestedMembers(t *testing.T) {
	war := zipOf(t, "WEB-INF/classes/db.properties", "password=one\n")
	outer := tgzOf(t, "app/legacy.war", string(war), "app/README", "hello\n", "../../etc/evil", "x\n")
	g := collect(t, Default, "release.tgz", outer)
	want := map[string]string{
		"release.tgz!app/legacy.war!WEB-INF/classes/db.properties": "password=one\n",
		"release.tgz!app/README":                                   "hello\n",
		"release.tgz!etc/evil":                                     "x\n", // no climbing out of the archive's name
	}
	for p, data := range want {
		if g.items[p] != data {
			t.Errorf("%s: %q, want %q (items %v)", p, g.items[p], data, g.items)
		}
	}
	if len(g.items) != len(want) || len(g.errors) != 0 {
		t.Errorf("items %v, errors %v", g.items, g.errors)
	}
	// at depth 1 the war is read as the file it is
	g = collect(t, Limits{MaxDepth: 1, MaxBytes: 1 << 20, MaxRatio: 100}, "release.tgz", outer)
	if g.items["release.tgz!app/legacy.war"] != string(war) {
		t.Errorf("depth 1: the war was not read as a file: %v", g.items)
	}
}

// A damaged or oversized archive is said and read as a file (its bytes
// swept); a bomb stops at the limit with the members before it scanned.
func TestBadArchives(t *testing.T) {
	g := collect(t, Default, "lib/broken.jar", []byte("PK\x03\x04 not really a zip, password=two"))
	if len(g.errors) != 1 || !strings.Contains(g.errors[0], "lib/broken.jar: opening the archive") || !strings.Contains(g.items["lib/broken.jar"], "password=two") {
		t.Errorf("broken zip: errors %v, items %v", g.errors, g.items)
	}
	data := zipOf(t, "a.txt", "password=three\n")
	g = collect(t, Limits{MaxDepth: 3, MaxBytes: 16, MaxRatio: 100}, "big.zip", data)
	if len(g.errors) != 1 || !strings.Contains(g.errors[0], "over the 16-byte limit") || g.items["big.zip"] != string(data) {
		t.Errorf("oversized zip: errors %v, items %v", g.errors, g.items)
	}
	bomb := zipOf(t, "first.txt", "password=four\n", "zeros", strings.Repeat("0", 1<<20))
	g = collect(t, Default, "bomb.zip", bomb)
	if len(g.errors) != 1 || !strings.Contains(g.errors[0], "expands past") || g.items["bomb.zip!first.txt"] != "password=four\n" || g.items["bomb.zip!zeros"] != "" {
		t.Errorf("bomb: errors %v, items %v", g.errors, g.items)
	}
	tgz := tgzOf(t, "ok.conf", "password=five\n", "next.conf", strings.Repeat("y", 4096))
	g = collect(t, Default, "cut.tgz", tgz[:len(tgz)-40])
	if g.items["cut.tgz!ok.conf"] != "password=five\n" || len(g.errors) != 1 {
		t.Errorf("truncated tgz: errors %v, items %v", g.errors, keysOf(g.items))
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
