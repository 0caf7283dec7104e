// Command mkhistory writes, on stdout, a git fast-import stream of a history
// made of real files, with the planted credential files under -planted
// added along the way and half of them deleted again some commits later
// (still in history). bench/compare-gitleaks-git.sh pipes it into `git
// fast-import`. The real content is either
//
//   - -real DIR: the files under DIR, in path order, each committed once, a
//     few at a time over -commits commits; or
//   - -states FILE: successive states of source trees ("PREFIX DIR" lines,
//     e.g. one module's releases in order under one prefix), each state's
//     changes against the previous one (files added, changed, deleted)
//     committed a few files at a time over -commits commits. Most files
//     then have many versions that differ in a few lines, as in a real
//     repository. Planted files are also edited once (their first line)
//     some commits after they are added, so later versions carry the
//     credential on unchanged lines.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	real := flag.String("real", "", "directory of real files")
	planted := flag.String("planted", "", "directory of planted credential files")
	commits := flag.Int("commits", 5000, "number of commits")
	budget := flag.Int64("bytes", 200<<20, "bytes of real content to commit")
	states := flag.String("states", "", "file of successive tree states (\"PREFIX DIR\" lines)")
	flag.Parse()
	if *states != "" {
		versions(*states, *planted, *commits)
		return
	}
	var files []string
	var total int64
	err := filepath.WalkDir(*real, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || total >= *budget {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
			files = append(files, p)
			total += fi.Size()
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	plants, err := filepath.Glob(filepath.Join(*planted, "*"))
	if err != nil {
		log.Fatal(err)
	}
	sort.Strings(plants)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	perCommit := (len(files) + *commits - 1) / *commits
	plantEvery := max(1, *commits/(len(plants)+1))
	deleteAt := map[int][]string{}
	fi, pi := 0, 0
	for c := 1; c <= *commits; c++ {
		commitHeader(w, c)
		for k := 0; k < perCommit && fi < len(files); k++ {
			rel, _ := filepath.Rel(*real, files[fi])
			put(w, filepath.ToSlash(filepath.Join("src", rel)), files[fi])
			fi++
		}
		if c%plantEvery == 0 && pi < len(plants) {
			name := "planted/" + filepath.Base(plants[pi])
			put(w, name, plants[pi])
			if pi%2 == 0 { // deleted later: history only
				deleteAt[min(c+25, *commits)] = append(deleteAt[min(c+25, *commits)], name)
			}
			pi++
		}
		for _, name := range deleteAt[c] {
			fmt.Fprintf(w, "D %s\n", name)
		}
		fmt.Fprintln(w)
	}
	if pi < len(plants) {
		log.Fatalf("only %d of %d planted files fit; use more commits", pi, len(plants))
	}
}

// commitHeader starts commit c on main, ten minutes after the one before
// it.
func commitHeader(w *bufio.Writer, c int) {
	when := 1700000000 + 600*int64(c)
	fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\nauthor Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\n", c, when, when)
	msg := fmt.Sprintf("change %d", c)
	fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
	if c > 1 {
		fmt.Fprintf(w, "from :%d\n", c-1)
	}
}

func put(w *bufio.Writer, name, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	inline(w, name, data)
}
