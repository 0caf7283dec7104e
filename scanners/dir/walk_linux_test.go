//go:build linux

package dir

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/scantest"
)

// walkEvents is what a walk of root reports, one line per event, in
// order, and the versions it gave the files it stated.
func walkEvents(t *testing.T, ctx context.Context, s *Scanner, root string, tree bool) (events []string, versions map[string]string) {
	t.Helper()
	versions = map[string]string{}
	w := walker{
		send: func(j job) bool {
			events = append(events, fmt.Sprintf("file %s %s %s", j.root, j.path, j.rel))
			if j.stated {
				versions[j.path] = j.ver
			}
			return true
		},
		yieldErr: func(o credscan.Origin, err error) {
			events = append(events, fmt.Sprintf("error %s %s: %v", o.Target, o.Path, err))
		},
		skip: func(o credscan.Origin, kind string) {
			events = append(events, fmt.Sprintf("skip %s %s %s", o.Target, o.Path, kind))
		},
	}
	s.started = time.Now()
	s.portable = !tree
	s.walk(ctx, root, w)
	return events, versions
}

// The descriptor-relative walk reports what filepath.WalkDir's does, in
// the same order: on Go's source tree, and on a tree of what a walk
// meets besides (a .git directory, links to files and directories, a
// named pipe, a socket, empty directories, names that sort by byte, a
// chain of directories deeper than the descriptors it keeps open, an
// unreadable directory when not root). With the scan cache on, each
// file it meets comes with the version a stat of its path gives.
func TestWalkTreeIsWalkPortable(t *testing.T) {
	top := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(top, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range []string{"b.txt", "a.txt", "B.txt", "ä.txt", "dir with space/x.env", ".git/config", "sub/.git/HEAD",
		"sub/z/y/x.go", "sub/a b/c.yaml", "e/.keep"} {
		write(rel, "content of "+rel+"\n")
	}
	if err := os.MkdirAll(filepath.Join(top, "empty", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	deep := top
	for i := range maxFDDepth + 10 {
		deep = filepath.Join(deep, fmt.Sprintf("d%d", i%3))
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	write(strings.TrimPrefix(deep, top+"/")+"/bottom.env", "PGPASSWORD=x\n")
	for link, to := range map[string]string{"link.txt": "a.txt", "linkdir": "sub", "dangling": "nowhere"} {
		if err := os.Symlink(to, filepath.Join(top, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(top, "sub", "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(top, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if os.Geteuid() != 0 {
		locked := filepath.Join(top, "locked")
		write("locked/x.env", "PGPASSWORD=y\n")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(locked, 0o755)
	}
	// a root named through a link, and with a trailing slash
	linkRoot := filepath.Join(t.TempDir(), "root-link")
	if err := os.Symlink(top, linkRoot); err != nil {
		t.Fatal(err)
	}
	st, err := cache.Open(t.TempDir(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cached := cache.WithPass(context.Background(), cache.NewPass(st, cache.NewConfig("test")))
	time.Sleep(2100 * time.Millisecond) // files older than the walk's start have versions
	goSrc := scantest.GoSrc(t)
	for _, root := range []string{top, top + "/", linkRoot, goSrc} {
		s, err := New([]string{root})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := walkEvents(t, context.Background(), s, root, false)
		if len(want) < 10 {
			t.Fatalf("%s: the portable walk reported %d events", root, len(want))
		}
		for _, ctx := range []context.Context{context.Background(), cached} {
			got, versions := walkEvents(t, ctx, s, root, true)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%s: the walks differ:\n%s", root, firstDiff(want, got))
			}
			files := 0
			for _, ev := range got {
				if strings.HasPrefix(ev, "file ") {
					files++
				}
			}
			if ctx == cached {
				if len(versions) != files {
					t.Fatalf("%s: %d of %d files stated", root, len(versions), files)
				}
				for p, v := range versions {
					if want := pathVersion(p, s.started.Add(-2*time.Second)); v != want || v == "" {
						t.Fatalf("%s: version %q, a stat of its path gives %q", p, v, want)
					}
				}
			} else if len(versions) != 0 {
				t.Fatalf("%s: files stated without the scan cache", root)
			}
		}
	}
}

// firstDiff shows where two event lists part.
func firstDiff(want, got []string) string {
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Sprintf("event %d: want %q, got %q", i, w, g)
		}
	}
	return ""
}
