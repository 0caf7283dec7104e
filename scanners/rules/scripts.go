package rules

import (
	"bytes"
	"path"
	"regexp"
	"strings"

	"github.com/credscan/credscan/scanners/dsn"
)

var (
	heredocRe = regexp.MustCompile(`<<-?~?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?`)
	echoRe    = regexp.MustCompile(`\b(?:echo|printf)\s+(?:-[a-zA-Z]+\s+)*(?:"((?:\\.|[^"\\])*)"|'([^']*)'|([^\s>|;&'"]+))`)
)

// scriptPgpass finds .pgpass lines written where no .pgpass file is: by
// echo or printf on a line that names a pgpass file (a script, a
// Dockerfile RUN), and in a heredoc whose command names one.
func (p *Pack) scriptPgpass(f *File, lines *Lines, r *Result) {
	for i := 0; i < lines.Len(); i++ {
		text := lines.Text(i)
		lower := dsn.LowerASCII(text)
		if !strings.Contains(lower, "pgpass") {
			continue
		}
		if m := heredocRe.FindStringSubmatch(text); m != nil {
			end := m[1]
			k := i + 1
			for ; k < lines.Len() && k <= i+200; k++ {
				body := lines.Text(k)
				if strings.TrimSpace(body) == end {
					break
				}
				p.pgpassIn(body, 0, f.StartLine+k, r)
			}
			i = k
			continue
		}
		for _, m := range echoRe.FindAllStringSubmatchIndex(text, -1) {
			for g := 2; g <= 6; g += 2 {
				if m[g] < 0 {
					continue
				}
				arg := text[m[g]:m[g+1]]
				// printf "a:b:c:d:e\n": each line of the format
				off := 0
				for _, part := range strings.Split(arg, `\n`) {
					p.pgpassIn(part, m[g]+off, f.StartLine+i, r)
					off += len(part) + 2
				}
			}
		}
	}
}

// pgpassIn reports s, at byte base of line lineNo, when it is a .pgpass
// line whose port is a number or '*'.
func (p *Pack) pgpassIn(s string, base, lineNo int, r *Result) {
	t := strings.TrimLeft(s, " \t")
	base += len(s) - len(t)
	t = strings.TrimRight(t, " \t\r")
	if strings.Count(t, ":") < 4 || strings.ContainsAny(t, " \t") {
		return
	}
	parsed, err := dsn.ParsePgpass(t)
	if err != nil || !parsed.HasPassword() || parsed.User == "" {
		return
	}
	if port := strings.SplitN(t, ":", 3)[1]; port != "*" && atoi(port) == 0 {
		return
	}
	p.emitDSN(Pgpass, parsed, t, base, lineNo, r, 0)
}

// isDoc says whether p is documentation whose code blocks hold samples
// (Markdown, reStructuredText, AsciiDoc).
func isDoc(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc":
		return true
	}
	return false
}

// fencedLines marks the lines inside fenced code blocks (``` or ~~~).
func fencedLines(lines *Lines) []bool {
	out := make([]bool, lines.Len())
	var s fenceState
	for i := range out {
		out[i] = s.in(lines.Bytes(i))
	}
	return out
}

// fenceState follows a document's fenced code blocks line by line.
type fenceState struct {
	fence string // the open block's fence (its run of ` or ~), or ""
}

// in says whether line (without its line break) sits inside a fenced
// code block, and moves past it.
func (s *fenceState) in(line []byte) bool {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '>') {
		i++ // (blanks and quote marks)
	}
	t := line[i:]
	// most lines start no fence: they leave the state as it is
	switch {
	case s.fence == "" && (len(t) == 0 || t[0] != '`' && t[0] != '~'):
		return false
	case s.fence != "" && (len(t) == 0 || t[0] != s.fence[0]):
		return true
	}
	run := fenceRun(t)
	switch {
	case s.fence == "" && run != "":
		s.fence = run
	case s.fence != "" && run != "" && run[0] == s.fence[0] && len(run) >= len(s.fence) && len(bytes.TrimSpace(t[len(run):])) == 0:
		// as CommonMark closes a block: the same character, at least as
		// many, and nothing after (a "```yaml" inside a block is a line
		// of it)
		s.fence = ""
	default:
		return s.fence != ""
	}
	return false
}

// CodeBlocks returns the runs of lines of data (0-based, [from, to)) that
// sit inside fenced code blocks, as the DB pack reads a document: whether
// a line does changes what the pack finds there.
func CodeBlocks(data []byte) [][2]int32 {
	var out [][2]int32
	var s fenceState
	for i := int32(0); len(data) > 0; i++ {
		line := data
		if k := bytes.IndexByte(data, '\n'); k >= 0 {
			line, data = data[:k], data[k+1:]
		} else {
			data = nil
		}
		if !s.in(bytes.TrimSuffix(line, []byte("\r"))) {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == i {
			out[n-1][1] = i + 1
		} else {
			out = append(out, [2]int32{i, i + 1})
		}
	}
	return out
}

// fenceRun is the run of three or more ` or ~ a line starts with, or "".
func fenceRun(t []byte) string {
	if len(t) < 3 || t[0] != '`' && t[0] != '~' {
		return ""
	}
	n := 1
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 {
		return ""
	}
	return string(t[:n])
}

// IsDoc says whether the DB pack reads p as documentation, where whether
// a line sits in a fenced code block (which depends on every fence above
// it) changes what it finds there.
func IsDoc(p string) bool { return isDoc(p) }
