package rules

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/credscan/credscan/scanners/dsn"
)

// maxStructured is the largest file parsed structurally; larger ones are
// scanned line by line.
const maxStructured = 8 << 20

// MaxDepth is the deepest nesting a structured document is walked to. A
// deeper document is scanned line by line instead, and the limit is
// reported as a problem: each level of the walk holds its key path, so
// depth must be bounded for memory to stay linear in the document's size.
const MaxDepth = 256

// errTooDeep stops a walk at MaxDepth.
var errTooDeep = fmt.Errorf("nesting deeper than %d levels", MaxDepth)

// checkEvery is how many tokens a walk reads between looks at its context.
const checkEvery = 1024

// scanStructured parses f by its format into key/value entries and
// assembles them. Its error names the format and the line, never content;
// a canceled ctx stops it with ctx's error.
func (p *Pack) scanStructured(ctx context.Context, f *File, lines *Lines, r *Result) error {
	if len(f.Data) > maxStructured {
		return fmt.Errorf("file larger than %d MiB: not parsed structurally, scanned line by line", maxStructured>>20)
	}
	var entries []Entry
	var err error
	switch f.Format {
	case FormatYAML, FormatCompose:
		entries, err = yamlEntries(ctx, f, lines)
	case FormatJSON:
		entries, err = jsonEntries(ctx, f, lines)
	case FormatXML:
		entries, err = xmlEntries(ctx, f, lines)
	case FormatProperties, FormatINI:
		entries = iniEntries(f, lines)
	}
	if errors.Is(err, errTooDeep) {
		// a document this deep is read as text, by the line rules
		return fmt.Errorf("%s: not parsed structurally, scanned line by line", err)
	}
	// what was parsed before an error is still assembled
	p.assemble(f, entries, false, r)
	return err
}

// setSpan sets e's position from the byte range [from, to) of f.Data that
// holds its value as written (escapes included, quotes excluded).
func setSpan(e *Entry, f *File, lines *Lines, from, to int) {
	li := lines.Index(from)
	e.Line = li + f.StartLine
	e.Col = from - lines.Start(li) + 1
	lj := lines.Index(max(from, to-1))
	if to <= from {
		lj = li
	}
	e.EndLine = lj + f.StartLine
	e.EndCol = to - lines.Start(lj) + 1
}

// yamlEntries walks every YAML document of f.
func yamlEntries(ctx context.Context, f *File, lines *Lines) ([]Entry, error) {
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
		if err := ctx.Err(); err != nil {
			return out, err
		}
		w := yamlWalker{ctx: ctx, f: f, lines: lines, compose: compose}
		root := &doc
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		w.secret = isK8sKind(root, "Secret")
		w.sealed = isK8sKind(root, "SealedSecret")
		err = w.walk(root, "", 0)
		out = append(out, w.out...)
		if err != nil {
			return out, err
		}
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
	ctx     context.Context
	f       *File
	lines   *Lines
	compose bool
	secret  bool // a Kubernetes Secret: data: values are base64
	sealed  bool // a Sealed Secret: encryptedData: values are ciphertext
	out     []Entry
	nodes   int
}

func isK8sKind(n *yaml.Node, kind string) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "kind" && n.Content[i+1].Value == kind {
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

func (w *yamlWalker) walk(n *yaml.Node, path string, depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	if w.nodes++; w.nodes%checkEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		prefix := path
		if (w.secret || w.sealed) && path == "" {
			prefix = secretName(n)
		}
		w.envVar(n, prefix)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := k.Value
			switch v.Kind {
			case yaml.ScalarNode:
				e := Entry{Path: prefix, Key: key, Value: v.Value}
				w.place(&e, k, v)
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
				if w.sealed && strings.HasSuffix(prefix, "encryptedData") {
					e.Tag = tagEncrypted
				}
				w.out = append(w.out, e)
			case yaml.AliasNode:
			default:
				if err := w.walk(v, joinPath(prefix, key), depth+1); err != nil {
					return err
				}
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
						e := Entry{Path: path, Key: a.Name, Value: a.Value, Expr: a.Expr}
						w.placeItem(&e, item, a)
						w.out = append(w.out, e)
					}
				}
			default:
				if err := w.walk(item, path+"#"+strconv.Itoa(i), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// tagEncrypted marks an entry whose value is ciphertext by where it
// stands (a Sealed Secret's encryptedData), whatever it looks like.
const tagEncrypted = "encrypted"

// envVar reads a Kubernetes container's environment variable, a mapping
// {name: X, value: V} or {name: X, valueFrom: {secretKeyRef: …}}, as the
// entry X=V, or X set from a secret store (counted as encrypted). An
// External Secrets remoteRef is one too.
func (w *yamlWalker) envVar(n *yaml.Node, prefix string) {
	var name, value, from *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k, v := n.Content[i], n.Content[i+1]; k.Value {
		case "name", "secretKey":
			if v.Kind == yaml.ScalarNode {
				name = v
			}
		case "value":
			if v.Kind == yaml.ScalarNode {
				value = v
			}
		case "valueFrom", "remoteRef", "sourceRef":
			if v.Kind == yaml.MappingNode {
				from = v
			}
		}
	}
	if name == nil {
		return
	}
	switch {
	case value != nil && from == nil:
		e := Entry{Path: prefix, Key: name.Value, Value: value.Value}
		w.place(&e, name, value)
		w.out = append(w.out, e)
	case from != nil && value == nil:
		if role, _ := keyRole(name.Value); role == RolePassword || role == RoleURL {
			e := Entry{Path: prefix, Key: name.Value, Value: "secretKeyRef", Line: w.f.StartLine + from.Line - 1, Tag: tagEncrypted}
			w.out = append(w.out, e)
		}
	}
}

// offset is the byte offset in the file of a node's 1-based line and
// column (yaml.v3 counts columns in characters), -1 when out of range.
func (w *yamlWalker) offset(line, col int) int {
	li := line - 1
	if li < 0 || li >= w.lines.Len() {
		return -1
	}
	b := w.lines.Bytes(li)
	at := 0
	for c := 1; c < col && at < len(b); c++ {
		_, size := utf8.DecodeRune(b[at:])
		at += size
	}
	return w.lines.Start(li) + at
}

// place sets where scalar v, the value of key k, is written: its raw span
// found from its position and style. A span that cannot be established
// masks from the value's start to its line's end.
func (w *yamlWalker) place(e *Entry, k, v *yaml.Node) {
	data := w.f.Data
	off := w.offset(v.Line, v.Column)
	if off < 0 {
		e.Line = v.Line + w.f.StartLine - 1
		return
	}
	from, to := off, -1
	switch {
	case v.Style&yaml.DoubleQuotedStyle != 0 && off < len(data) && data[off] == '"':
		from = off + 1
		for j := from; j < len(data); j++ {
			if data[j] == '\\' {
				j++
				continue
			}
			if data[j] == '"' {
				to = j
				break
			}
		}
	case v.Style&yaml.SingleQuotedStyle != 0 && off < len(data) && data[off] == '\'':
		from = off + 1
		for j := from; j < len(data); j++ {
			if data[j] == '\'' {
				if j+1 < len(data) && data[j+1] == '\'' {
					j++
					continue
				}
				to = j
				break
			}
		}
	case v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		to = w.blockEnd(off, k.Column)
	default: // plain
		if bytes.HasPrefix(data[off:], []byte(v.Value)) {
			to = off + len(v.Value)
		} else {
			to = w.blockEnd(off, k.Column) // a plain scalar over several lines
		}
	}
	if to < from {
		e.Line = v.Line + w.f.StartLine - 1
		e.Col = off - w.lines.Start(v.Line-1) + 1
		return
	}
	setSpan(e, w.f, w.lines, from, to)
}

// blockEnd is the end of a block or multi-line plain scalar that starts
// at off, under a key at column keyCol: the end of the last line after
// off's that is indented deeper than the key (blank lines included).
func (w *yamlWalker) blockEnd(off, keyCol int) int {
	li := w.lines.Index(off)
	end := w.lines.Start(li) + len(w.lines.Bytes(li))
	for k := li + 1; k < w.lines.Len(); k++ {
		b := w.lines.Bytes(k)
		t := bytes.TrimLeft(b, " \t")
		if len(t) == 0 {
			continue
		}
		if len(b)-len(t) < keyCol { // indent (0-based) at or left of the key's column (1-based)
			break
		}
		end = w.lines.Start(k) + len(b)
	}
	return end
}

// placeItem sets where assignment a, parsed from the sequence item's
// value, is written: inside the item when the item is written as its value
// reads (a plain or single-line quoted scalar), else the whole item.
func (w *yamlWalker) placeItem(e *Entry, item *yaml.Node, a dsn.Assignment) {
	off := w.offset(item.Line, item.Column)
	if off < 0 {
		e.Line = item.Line + w.f.StartLine - 1
		return
	}
	data := w.f.Data
	if off < len(data) && (data[off] == '"' || data[off] == '\'') {
		off++
	}
	if bytes.HasPrefix(data[off:], []byte(item.Value)) {
		setSpan(e, w.f, w.lines, off+a.ValStart, off+a.ValEnd)
		return
	}
	li := w.lines.Index(off)
	setSpan(e, w.f, w.lines, off, w.lines.Start(li)+len(w.lines.Bytes(li)))
}

// jsonEntries streams JSON tokens, tracking the key path and line.
func jsonEntries(ctx context.Context, f *File, lines *Lines) ([]Entry, error) {
	// encoding/json's tokenizer took 0.14 s of a 2.7 s history scan for
	// 6.8 MB of JSON: a faster one reads what is well formed, and what it
	// turns down is read again by encoding/json, for the same entries and
	// error up to the fault
	out, err := jsonWalk(ctx, f, lines, newJSONTokens(f.Data))
	if err == nil || errors.Is(err, errTooDeep) || ctx.Err() != nil {
		return out, err
	}
	dec := json.NewDecoder(bytes.NewReader(f.Data))
	dec.UseNumber()
	return jsonWalk(ctx, f, lines, dec)
}

// jsonTokenizer is what jsonWalk reads: encoding/json's Decoder or
// jsonTokens.
type jsonTokenizer interface {
	Token() (json.Token, error)
	InputOffset() int64
}

// jsonWalk turns the tokens of f into entries.
func jsonWalk(ctx context.Context, f *File, lines *Lines, dec jsonTokenizer) ([]Entry, error) {
	type frame struct {
		obj   bool
		key   string
		index int
		path  string
	}
	var stack []frame
	var out []Entry
	expectKey := func() bool { return len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].key == "" }
	for n := 1; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
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
				if len(stack) >= MaxDepth {
					return out, errTooDeep
				}
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
			e := Entry{Path: top.path, Key: top.key, Value: val}
			from, to := jsonValueSpan(f.Data, off, t)
			setSpan(&e, f, lines, from, to)
			if raw := string(f.Data[from:to]); raw != val {
				e.Raw = raw // written with escapes
			}
			out = append(out, e)
			top.key = ""
		}
	}
}

// jsonValueSpan is where the string or number token that ends at end is
// written: inside its quotes for a string.
func jsonValueSpan(data []byte, end int, tok json.Token) (int, int) {
	end = min(end, len(data))
	if n, ok := tok.(json.Number); ok {
		return max(0, end-len(n)), end
	}
	// the closing quote is data[end-1]; the opening one is the first quote
	// before it that an even number of backslashes precedes (every quote
	// inside a JSON string is escaped)
	closeQ := end - 1
	for j := closeQ - 1; j >= 0; j-- {
		if data[j] != '"' {
			continue
		}
		bs := 0
		for k := j - 1; k >= 0 && data[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return j + 1, max(j+1, closeQ)
		}
	}
	return 0, max(0, closeQ)
}

// xmlEntries reads element attributes and text: <x password="…"/>,
// <password>…</password>, and <property name="password" value="…"/> or
// <property name="hibernate.connection.password">…</property>.
func xmlEntries(ctx context.Context, f *File, lines *Lines) ([]Entry, error) {
	dec := xml.NewDecoder(bytes.NewReader(f.Data))
	dec.Strict = false
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	type elem struct {
		name     string
		path     string
		nameAttr string
		text     strings.Builder
		textFrom int // where its content starts
		line     int
		n        int // child counter
	}
	var stack []*elem
	var out []Entry
	for n := 1; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
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
			if len(stack) >= MaxDepth {
				return out, errTooDeep
			}
			parentPath := ""
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.n++
				parentPath = top.path
			}
			e := &elem{name: t.Name.Local, path: joinPath(parentPath, t.Name.Local+"#"+strconv.Itoa(len(stack))), line: lines.Index(after-1) + f.StartLine, textFrom: after}
			if len(stack) > 0 {
				e.path = joinPath(parentPath, t.Name.Local+"#"+strconv.Itoa(stack[len(stack)-1].n))
			}
			var nameAttr string
			var valueEntry *Entry
			raw := xmlAttrSpans(f.Data, before, after)
			used := make([]bool, len(raw))
			for _, a := range t.Attr {
				ent := Entry{Path: e.path, Key: a.Name.Local, Value: a.Value}
				placed := false
				for k, ra := range raw {
					if !used[k] && ra.local == a.Name.Local {
						used[k] = true
						setSpan(&ent, f, lines, ra.from, ra.to)
						if s := string(f.Data[ra.from:ra.to]); s != a.Value {
							ent.Raw = s // written with entities
						}
						placed = true
						break
					}
				}
				if !placed { // the whole tag: the value's place is not known
					setSpan(&ent, f, lines, before, after)
				}
				switch strings.ToLower(a.Name.Local) {
				case "name", "key":
					nameAttr = a.Value
				case "value":
					v := ent
					valueEntry = &v
				}
				out = append(out, ent)
			}
			e.nameAttr = nameAttr
			if nameAttr != "" && valueEntry != nil && valueEntry.Value != "" {
				v := *valueEntry
				v.Path, v.Key = parentPath, nameAttr
				out = append(out, v)
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
			ent := Entry{Path: parentPath, Key: key, Value: text}
			// the content as written: between the tags, blanks trimmed
			from, to := e.textFrom, before
			for from < to && isXMLSpace(f.Data[from]) {
				from++
			}
			for to > from && isXMLSpace(f.Data[to-1]) {
				to--
			}
			setSpan(&ent, f, lines, from, to)
			if s := string(f.Data[from:to]); s != text {
				ent.Raw = s
			}
			ent.Line = lines.Index(max(0, before)) + f.StartLine
			if ent.EndLine < ent.Line { // content before the end tag's line: keep the span's own end
				ent.Line = ent.EndLine
			}
			out = append(out, ent)
		}
	}
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// rawAttr is where an attribute's value is written in a start tag.
type rawAttr struct {
	local    string // the name after any prefix
	from, to int    // the value, quotes excluded
}

// xmlAttrSpans lists the attributes of the start tag in data[from:to], in
// order, with where their values are written.
func xmlAttrSpans(data []byte, from, to int) []rawAttr {
	if from < 0 || to > len(data) || from >= to {
		return nil
	}
	i := from
	for i < to && data[i] != '<' {
		i++
	}
	i++
	for i < to && !isXMLSpace(data[i]) && data[i] != '>' && data[i] != '/' { // the element's name
		i++
	}
	var out []rawAttr
	for i < to {
		for i < to && (isXMLSpace(data[i]) || data[i] == '/') {
			i++
		}
		ns := i
		for i < to && data[i] != '=' && !isXMLSpace(data[i]) && data[i] != '>' && data[i] != '/' {
			i++
		}
		name := string(data[ns:i])
		for i < to && isXMLSpace(data[i]) {
			i++
		}
		if i >= to || data[i] != '=' {
			if i < to && data[i] == '>' {
				return out
			}
			if i == ns {
				i++
			}
			continue
		}
		i++
		for i < to && isXMLSpace(data[i]) {
			i++
		}
		if i >= to {
			return out
		}
		q := data[i]
		if q != '"' && q != '\'' { // unquoted (non-strict): up to a blank or '>'
			vs := i
			for i < to && !isXMLSpace(data[i]) && data[i] != '>' {
				i++
			}
			out = append(out, rawAttr{local: localName(name), from: vs, to: i})
			continue
		}
		vs := i + 1
		e := bytes.IndexByte(data[vs:to], q)
		if e < 0 {
			return out
		}
		out = append(out, rawAttr{local: localName(name), from: vs, to: vs + e})
		i = vs + e + 1
	}
	return out
}

func localName(n string) string {
	if i := strings.LastIndexByte(n, ':'); i >= 0 {
		return n[i+1:]
	}
	return n
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
			if e, last, ok := propertiesEntry(f, lines, i); ok {
				e.Path = section
				out = append(out, e)
				i = last
			}
			continue
		}
		for _, a := range dsn.ParseCodeLine(line) {
			e := Entry{Path: section, Key: a.Name, Value: a.Value, Line: f.StartLine + i, Col: a.ValStart + 1, EndCol: a.ValEnd + 1, Expr: a.Expr && !isBareINIValue(a.Value)}
			if a.Expr {
				// an unquoted INI value runs to the line's end or to a
				// comment that a blank precedes (password = a;b is a;b)
				v := bareINIValue(line[a.ValStart:])
				if isBareINIValue(v) {
					e.Value, e.Expr, e.EndCol = v, false, a.ValStart+len(v)+1
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// bareINIValue is the unquoted INI value at the start of rest: up to a
// ';' or '#' that follows a blank, blanks trimmed.
func bareINIValue(rest string) string {
	end := len(rest)
	for k := 1; k < len(rest); k++ {
		if (rest[k] == ';' || rest[k] == '#') && (rest[k-1] == ' ' || rest[k-1] == '\t') {
			end = k
			break
		}
	}
	return strings.TrimRight(rest[:end], " \t\r")
}

// isBareINIValue says an unquoted INI value is a literal (password = s3cr3t).
func isBareINIValue(v string) bool {
	return !strings.ContainsAny(v, "()[]{}$") && !strings.Contains(v, " + ")
}

// propertiesEntry parses the Java properties pair "key=value", "key: value"
// or "key value" that starts on line i, with its continuation lines (a
// line ending in an odd number of backslashes goes on, leading blanks of
// the next dropped) and escapes (\t \n \r \f, \uXXXX, any other \x is x).
// It returns the entry, spanning the value as written, and the last line
// it read.
func propertiesEntry(f *File, lines *Lines, i int) (Entry, int, bool) {
	line := lines.Text(i)
	t := strings.TrimLeft(line, " \t\f")
	lead := len(line) - len(t)
	// the key ends at the first unescaped '=', ':' or blank
	sep := -1
	for k := 0; k < len(t); k++ {
		if t[k] == '\\' {
			k++
			continue
		}
		if t[k] == '=' || t[k] == ':' || t[k] == ' ' || t[k] == '\t' {
			sep = k
			break
		}
	}
	if sep <= 0 {
		return Entry{}, i, false
	}
	key := unescapeProperties(strings.TrimSpace(t[:sep]))
	vs := sep
	for vs < len(t) && (t[vs] == ' ' || t[vs] == '\t') {
		vs++
	}
	if vs < len(t) && (t[vs] == '=' || t[vs] == ':') && (t[sep] == ' ' || t[sep] == '\t') || vs == sep {
		vs++
	}
	for vs < len(t) && (t[vs] == ' ' || t[vs] == '\t' || t[vs] == '\f') {
		vs++
	}
	// the logical line: this one and its continuations
	var raw strings.Builder
	seg := t[min(vs, len(t)):]
	last := i
	var endCol int
	for {
		cont := trailingBackslashes(seg)%2 == 1
		if !cont {
			raw.WriteString(strings.TrimRight(seg, " \t\r"))
			if last == i {
				endCol = lead + vs + len(strings.TrimRight(seg, " \t\r"))
			} else {
				endCol = len(lines.Text(last)) - len(seg) + len(strings.TrimRight(seg, " \t\r"))
			}
			break
		}
		raw.WriteString(seg[:len(seg)-1])
		if last+1 >= lines.Len() {
			endCol = len(lines.Text(last)) - 1
			break
		}
		last++
		seg = strings.TrimLeft(lines.Text(last), " \t\f")
	}
	e := Entry{Key: key, Value: unescapeProperties(raw.String()), Line: f.StartLine + i, Col: lead + vs + 1, EndCol: endCol + 1}
	if last != i {
		e.EndLine = f.StartLine + last
	}
	return e, last, key != ""
}

func trailingBackslashes(s string) int {
	n := 0
	for k := len(s) - 1; k >= 0 && s[k] == '\\'; k-- {
		n++
	}
	return n
}

// unescapeProperties resolves the escapes of a properties key or value.
func unescapeProperties(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch n := s[i]; n {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+5], 16, 16); err == nil {
					b.WriteRune(rune(v))
					i += 4
					continue
				}
			}
			b.WriteByte(n)
		default:
			b.WriteByte(n)
		}
	}
	return b.String()
}
