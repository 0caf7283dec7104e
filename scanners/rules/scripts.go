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
	var fence string // the opening fence's run of ` or ~
	for i := range out {
		t, run := fenceLine(lines.Bytes(i))
		switch {
		case fence == "" && run != "":
			fence = run
		case fence != "" && run != "" && run[0] == fence[0] && len(run) >= len(fence) && len(bytes.TrimSpace(t[len(run):])) == 0:
			// as CommonMark closes a block: the same character, at least
			// as many, and nothing after (a "```yaml" inside a block is
			// a line of it)
			fence = ""
		default:
			out[i] = fence != ""
		}
	}
	return out
}

// fenceLine is a line without the blanks and quote marks it starts with,
// and the run of three or more ` or ~ it then starts with, or "".
func fenceLine(line []byte) (t []byte, run string) {
	t = bytes.TrimLeft(line, " \t>")
	return t, fenceRun(t)
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

// Fences counts the lines of data that open or close a fenced code block
// (``` or ~~~, three or more, after blanks and quote marks).
func Fences(data []byte) int {
	n := 0
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if _, run := fenceLine(line); run != "" {
			n++
		}
	}
	return n
}
