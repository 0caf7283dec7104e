package rules

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/credscan/credscan/scanners/dsn"
)

// maxStructured is the largest file parsed structurally; larger ones are
// scanned line by line.
const maxStructured = 8 << 20

// scanStructured parses f by its format into key/value entries and
// assembles them. Its error names the format and the line, never content.
func (p *Pack) scanStructured(f *File, lines *Lines, r *Result) error {
	if len(f.Data) > maxStructured {
		return fmt.Errorf("file larger than %d MiB: not parsed structurally, scanned line by line", maxStructured>>20)
	}
	var entries []Entry
	var err error
	switch f.Format {
	case FormatYAML, FormatCompose:
		entries, err = yamlEntries(f)
	case FormatJSON:
		entries, err = jsonEntries(f, lines)
	case FormatXML:
		entries, err = xmlEntries(f, lines)
	case FormatProperties, FormatINI:
		entries = iniEntries(f, lines)
	}
	// what was parsed before an error is still assembled
	p.assemble(f, entries, false, r)
	return err
}

// yamlEntries walks every YAML document of f.
func yamlEntries(f *File) ([]Entry, error) {
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	var out []Entry
	compose := f.Format == FormatCompose
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("parsing YAML: %s", yamlErrLine(err, f.StartLine))
		}
		w := yamlWalker{f: f, compose: compose}
		root := &doc
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		w.secret = isK8sSecret(root)
		w.walk(root, "")
		out = append(out, w.out...)
	}
}

// yamlErrLine keeps the position of a yaml.v3 error and drops the rest:
// its messages can quote the offending content.
func yamlErrLine(err error, startLine int) string {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		j := i + 5
		for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
			j++
		}
		if n, e := strconv.Atoi(msg[i+5 : j]); e == nil {
			return fmt.Sprintf("line %d: malformed YAML", n+startLine-1)
		}
	}
	return "malformed YAML"
}

type yamlWalker struct {
	f       *File
	compose bool
	secret  bool // a Kubernetes Secret: data: values are base64
	out     []Entry
}

func isK8sSecret(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "kind" && n.Content[i+1].Value == "Secret" {
			return true
		}
	}
	return false
}

func secretName(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "metadata" {
			m := n.Content[i+1]
			for k := 0; k+1 < len(m.Content); k += 2 {
				if m.Content[k].Value == "name" {
					return m.Content[k+1].Value
				}
			}
		}
	}
	return ""
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func (w *yamlWalker) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		prefix := path
		if w.secret && path == "" {
			prefix = secretName(n)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := k.Value
			switch v.Kind {
			case yaml.ScalarNode:
				e := Entry{Path: prefix, Key: key, Value: v.Value, Line: v.Line + w.f.StartLine - 1, Col: v.Column}
				if w.compose {
					e.Value = strings.ReplaceAll(e.Value, "$$", "$")
				}
				if w.secret && strings.HasSuffix(prefix, "data") && !strings.HasSuffix(prefix, "stringData") {
					dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v.Value))
					if err != nil {
						continue
					}
					e.Raw, e.Value, e.Tag = v.Value, string(dec), "base64"
				}
				if w.secret {
					e.Rule = K8sSecret
				}
				w.out = append(w.out, e)
			case yaml.AliasNode:
			default:
				child := joinPath(prefix, key)
				if w.secret && (key == "data" || key == "stringData") {
					child = joinPath(prefix, key)
				}
				w.walk(v, child)
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			switch item.Kind {
			case yaml.ScalarNode:
				// compose/k8s style "NAME=value" list items
				if strings.Contains(item.Value, "=") {
					d := dsn.Shell
					if w.compose {
						d = dsn.Compose
					}
					for _, a := range dsn.ParseEnvLine(item.Value, d) {
						w.out = append(w.out, Entry{Path: path, Key: a.Name, Value: a.Value, Line: item.Line + w.f.StartLine - 1, Col: item.Column, Expr: a.Expr})
					}
				}
			default:
				w.walk(item, path+"#"+strconv.Itoa(i))
			}
		}
	}
}

// jsonEntries streams JSON tokens, tracking the key path and line.
func jsonEntries(f *File, lines *Lines) ([]Entry, error) {
	// encoding/json's tokenizer took 0.14 s of a 2.7 s history scan for
	// 6.8 MB of JSON: a faster one reads what is well formed, and what it
	// turns down is read again by encoding/json, for the same entries and
	// error up to the fault
	if out, err := jsonWalk(f, lines, newJSONTokens(f.Data)); err == nil {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(f.Data))
	dec.UseNumber()
	return jsonWalk(f, lines, dec)
}

// jsonTokenizer is what jsonWalk reads: encoding/json's Decoder or
// jsonTokens.
type jsonTokenizer interface {
	Token() (json.Token, error)
	InputOffset() int64
}

// jsonWalk turns the tokens of f into entries.
func jsonWalk(f *File, lines *Lines, dec jsonTokenizer) ([]Entry, error) {
	type frame struct {
		obj   bool
		key   string
		index int
		path  string
	}
	var stack []frame
	var out []Entry
	expectKey := func() bool { return len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].key == "" }
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			line := lines.Index(int(dec.InputOffset())) + f.StartLine
			return out, fmt.Errorf("parsing JSON: line %d: malformed JSON", line)
		}
		off := int(dec.InputOffset())
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				path := ""
				if len(stack) > 0 {
					top := &stack[len(stack)-1]
					if top.obj {
						path = joinPath(top.path, top.key)
						top.key = ""
					} else {
						path = top.path + "#" + strconv.Itoa(top.index)
						top.index++
					}
				}
				stack = append(stack, frame{obj: t == '{', path: path})
			default:
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			}
		default:
			if expectKey() {
				if s, ok := t.(string); ok {
					stack[len(stack)-1].key = s
				}
				continue
			}
			var val string
			switch v := t.(type) {
			case string:
				val = v
			case json.Number:
				val = v.String()
			default:
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].key = ""
				}
				continue
			}
			if len(stack) == 0 {
				continue
			}
			top := &stack[len(stack)-1]
			if !top.obj {
				top.index++
				continue
			}
			li := lines.Index(max(0, off-1))
			out = append(out, Entry{Path: top.path, Key: top.key, Value: val, Line: li + f.StartLine})
			top.key = ""
		}
	}
}

// xmlEntries reads element attributes and text: <x password="…"/>,
// <password>…</password>, and <property name="password" value="…"/> or
// <property name="hibernate.connection.password">…</property>.
func xmlEntries(f *File, lines *Lines) ([]Entry, error) {
	dec := xml.NewDecoder(bytes.NewReader(f.Data))
	dec.Strict = false
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	type elem struct {
		name     string
		path     string
		nameAttr string
		text     strings.Builder
		line     int
		n        int // child counter
	}
	var stack []*elem
	var out []Entry
	for {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			line, _ := dec.InputPos()
			return out, fmt.Errorf("parsing XML: line %d: malformed XML", line+f.StartLine-1)
		}
		after := int(dec.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			parentPath := ""
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.n++
				parentPath = top.path
			}
			e := &elem{name: t.Name.Local, path: joinPath(parentPath, t.Name.Local+"#"+strconv.Itoa(len(stack))), line: lines.Index(after-1) + f.StartLine}
			if len(stack) > 0 {
				e.path = joinPath(parentPath, t.Name.Local+"#"+strconv.Itoa(stack[len(stack)-1].n))
			}
			var nameAttr, valueAttr string
			valueLine := e.line
			for _, a := range t.Attr {
				line := attrLine(f.Data, lines, before, after, a.Name.Local) + f.StartLine
				switch strings.ToLower(a.Name.Local) {
				case "name", "key":
					nameAttr = a.Value
				case "value":
					valueAttr = a.Value
					valueLine = line
				}
				out = append(out, Entry{Path: e.path, Key: a.Name.Local, Value: a.Value, Line: line})
			}
			e.nameAttr = nameAttr
			if nameAttr != "" && valueAttr != "" {
				out = append(out, Entry{Path: parentPath, Key: nameAttr, Value: valueAttr, Line: valueLine})
			}
			stack = append(stack, e)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			text := strings.TrimSpace(e.text.String())
			if text == "" || e.n > 0 {
				continue
			}
			parentPath := ""
			if len(stack) > 0 {
				parentPath = stack[len(stack)-1].path
			}
			key := e.name
			if e.nameAttr != "" {
				key = e.nameAttr
			}
			out = append(out, Entry{Path: parentPath, Key: key, Value: text, Line: lines.Index(max(0, before)) + f.StartLine})
		}
	}
}

// attrLine finds the 0-based line of attribute name= inside data[from:to].
func attrLine(data []byte, lines *Lines, from, to int, name string) int {
	if from < 0 || to > len(data) || from >= to {
		return lines.Index(max(0, from))
	}
	seg := data[from:to]
	for off := 0; ; {
		i := bytes.Index(seg[off:], []byte(name))
		if i < 0 {
			return lines.Index(from)
		}
		at := off + i
		k := at + len(name)
		for k < len(seg) && (seg[k] == ' ' || seg[k] == '\t') {
			k++
		}
		if k < len(seg) && seg[k] == '=' && (at == 0 || seg[at-1] == ' ' || seg[at-1] == '\t' || seg[at-1] == '\n' || seg[at-1] == '\r') {
			return lines.Index(from + at)
		}
		off = at + 1
	}
}

// iniEntries reads INI, TOML, properties, .tfvars and pg_service.conf:
// [section] headers, key = value and key: value lines, # ; ! comments.
func iniEntries(f *File, lines *Lines) []Entry {
	var out []Entry
	section := ""
	for i := 0; i < lines.Len(); i++ {
		b := bytes.TrimSpace(lines.Bytes(i))
		if len(b) == 0 || b[0] == '#' || b[0] == ';' || b[0] == '!' || bytes.HasPrefix(b, []byte("//")) {
			continue
		}
		if b[0] == '[' {
			if end := bytes.IndexByte(b, ']'); end > 0 {
				section = strings.Trim(string(b[1:end]), "[] \"")
			}
			continue
		}
		line := lines.Text(i)
		if f.Format == FormatProperties {
			if k, v, col, ok := propertiesPair(line); ok {
				out = append(out, Entry{Path: section, Key: k, Value: v, Line: f.StartLine + i, Col: col})
			}
			continue
		}
		for _, a := range dsn.ParseCodeLine(line) {
			out = append(out, Entry{Path: section, Key: a.Name, Value: a.Value, Line: f.StartLine + i, Col: a.ValStart + 1, Expr: a.Expr && !isBareINIValue(a.Value)})
		}
	}
	return out
}

// isBareINIValue says an unquoted INI value is a literal (password = s3cr3t).
func isBareINIValue(v string) bool {
	return !strings.ContainsAny(v, "()[]{}$") && !strings.Contains(v, " + ")
}

// propertiesPair parses a Java properties line "key=value" or "key: value"
// with \ escapes (unicode escapes are kept as written).
func propertiesPair(line string) (string, string, int, bool) {
	t := strings.TrimLeft(line, " \t\f")
	lead := len(line) - len(t)
	sep := strings.IndexAny(t, "=:")
	if sep <= 0 {
		return "", "", 0, false
	}
	key := strings.TrimSpace(t[:sep])
	vs := sep + 1
	for vs < len(t) && (t[vs] == ' ' || t[vs] == '\t') {
		vs++
	}
	raw := strings.TrimRight(t[vs:], " \t\r\\")
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			i++
		}
		b.WriteByte(raw[i])
	}
	return key, b.String(), lead + vs + 1, key != ""
}
