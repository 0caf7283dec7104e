package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// op is one file change: content from file, or a deletion when file is "".
type op struct{ name, file string }

// versions writes the history of successive tree states (see the package
// comment).
func versions(statesFile, planted string, commits int) {
	data, err := os.ReadFile(statesFile)
	if err != nil {
		log.Fatal(err)
	}
	cur := map[string][sha1.Size]byte{} // path in the repository → content hash
	var ops []op
	var unique int64
	seen := map[[sha1.Size]byte]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		prefix, dir, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			log.Fatalf("bad state line %q", line)
		}
		now := map[string]bool{}
		var names []string
		files := map[string]string{}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			fi, err := d.Info()
			if err != nil || !fi.Mode().IsRegular() || fi.Size() > 2000<<10 {
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			name := prefix + "/" + filepath.ToSlash(rel)
			names = append(names, name)
			files[name] = p
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
		sort.Strings(names)
		for _, name := range names {
			now[name] = true
			b, err := os.ReadFile(files[name])
			if err != nil {
				log.Fatal(err)
			}
			h := sha1.Sum(b)
			if old, ok := cur[name]; ok && old == h {
				continue
			}
			cur[name] = h
			if !seen[h] {
				seen[h] = true
				unique += int64(len(b))
			}
			ops = append(ops, op{name, files[name]})
		}
		var gone []string
		for name := range cur {
			if strings.HasPrefix(name, prefix+"/") && !now[name] {
				gone = append(gone, name)
			}
		}
		sort.Strings(gone)
		for _, name := range gone {
			delete(cur, name)
			ops = append(ops, op{name: name})
		}
	}
	plants, err := filepath.Glob(filepath.Join(planted, "*"))
	if err != nil {
		log.Fatal(err)
	}
	sort.Strings(plants)
	perCommit := max(1, (len(ops)+commits-1)/commits)
	log.Printf("%d file changes, %d MB of unique real content, %d per commit", len(ops), unique/1000000, perCommit)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	plantEvery := max(1, commits/(len(plants)+1))
	edits := map[int][]string{}   // commit → planted files edited then
	deletes := map[int][]string{} // commit → planted files deleted then
	plantText := map[string][]byte{}
	oi, pi := 0, 0
	for c := 1; c <= commits; c++ {
		commitHeader(w, c)
		for k := 0; k < perCommit && oi < len(ops); k++ {
			if ops[oi].file == "" {
				fmt.Fprintf(w, "D %s\n", ops[oi].name)
			} else {
				put(w, ops[oi].name, ops[oi].file)
			}
			oi++
		}
		if c%plantEvery == 0 && pi < len(plants) {
			name := "planted/" + filepath.Base(plants[pi])
			b, err := os.ReadFile(plants[pi])
			if err != nil {
				log.Fatal(err)
			}
			if !strings.HasSuffix(name, ".json") { // comments would break JSON
				// filler around the credential, so that an edit of the
				// first line leaves it on unchanged lines
				var fill bytes.Buffer
				for i := 0; i < 8; i++ {
					fmt.Fprintf(&fill, "# filler line %d\n", i)
				}
				b = append(append(append([]byte(nil), fill.Bytes()...), b...), fill.Bytes()...)
				edits[c+10] = append(edits[c+10], name)
			}
			plantText[name] = b
			inline(w, name, b)
			if pi%2 == 0 { // deleted later: history only
				at := min(c+25, commits)
				deletes[at] = append(deletes[at], name)
			}
			pi++
		}
		for _, name := range edits[c] {
			if c >= commits {
				break
			}
			b := plantText[name]
			i := bytes.IndexByte(b, '\n')
			inline(w, name, append([]byte("# filler line 0, edited"), b[i:]...))
		}
		for _, name := range deletes[c] {
			fmt.Fprintf(w, "D %s\n", name)
		}
		fmt.Fprintln(w)
	}
	if pi < len(plants) {
		log.Fatalf("only %d of %d planted files fit; use more commits", pi, len(plants))
	}
	if oi < len(ops) {
		log.Fatalf("only %d of %d changes fit", oi, len(ops))
	}
}

// inline writes a file's content at name in the commit being written.
func inline(w *bufio.Writer, name string, data []byte) {
	fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n", name, len(data))
	w.Write(data)
	w.WriteString("\n")
}
