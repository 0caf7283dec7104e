package rules

import (
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// jsonTokens reads the tokens of JSON text as encoding/json's Decoder does
// (with UseNumber: a sequence of values, numbers as json.Number), only
// faster, and strictly: anything it is not sure of is an error, and the
// caller then reads the text with the Decoder.
type jsonTokens struct {
	data []byte
	pos  int
	// stack holds, for each open container, what comes next (jsonState)
	stack []jsonState
}

type jsonState uint8

const (
	objKeyOrEnd   jsonState = iota // after '{'
	objColon                       // after a key
	objValue                       // after ':'
	objCommaOrEnd                  // after a value
	objKey                         // after ','
	arrValueOrEnd                  // after '['
	arrCommaOrEnd                  // after a value
	arrValue                       // after ','
)

var errJSONToken = errors.New("not read by the fast tokenizer")

func newJSONTokens(data []byte) *jsonTokens { return &jsonTokens{data: data} }

// InputOffset is the offset just after the last token.
func (t *jsonTokens) InputOffset() int64 { return int64(t.pos) }

// Token returns the next token: json.Delim, string, json.Number, bool or
// nil; io.EOF at the end of the text.
func (t *jsonTokens) Token() (json.Token, error) {
	for {
		t.space()
		if t.pos >= len(t.data) {
			if len(t.stack) > 0 {
				return nil, errJSONToken
			}
			return nil, io.EOF
		}
		c := t.data[t.pos]
		st := jsonState(255)
		if n := len(t.stack); n > 0 {
			st = t.stack[n-1]
		}
		switch st {
		case objColon:
			if c != ':' {
				return nil, errJSONToken
			}
			t.pos++
			t.stack[len(t.stack)-1] = objValue
			continue
		case objCommaOrEnd, arrCommaOrEnd:
			switch {
			case c == ',':
				t.pos++
				if st == objCommaOrEnd {
					t.stack[len(t.stack)-1] = objKey
				} else {
					t.stack[len(t.stack)-1] = arrValue
				}
				continue
			case c == '}' && st == objCommaOrEnd, c == ']' && st == arrCommaOrEnd:
				return t.close(c), nil
			}
			return nil, errJSONToken
		case objKeyOrEnd, objKey:
			if c == '}' && st == objKeyOrEnd {
				return t.close(c), nil
			}
			if c != '"' {
				return nil, errJSONToken
			}
			s, err := t.str()
			if err != nil {
				return nil, err
			}
			t.stack[len(t.stack)-1] = objColon
			return s, nil
		case arrValueOrEnd:
			if c == ']' {
				return t.close(c), nil
			}
		}
		// a value (at the top, after ':', in an array)
		return t.value(c)
	}
}

func (t *jsonTokens) space() {
	for t.pos < len(t.data) {
		switch t.data[t.pos] {
		case ' ', '\t', '\n', '\r':
			t.pos++
		default:
			return
		}
	}
}

// close ends the open container with c.
func (t *jsonTokens) close(c byte) json.Token {
	t.pos++
	t.stack = t.stack[:len(t.stack)-1]
	t.valueDone()
	return json.Delim(c)
}

// valueDone moves the enclosing container past a value.
func (t *jsonTokens) valueDone() {
	if n := len(t.stack); n > 0 {
		switch t.stack[n-1] {
		case objValue:
			t.stack[n-1] = objCommaOrEnd
		case arrValueOrEnd, arrValue:
			t.stack[n-1] = arrCommaOrEnd
		}
	}
}

func (t *jsonTokens) value(c byte) (json.Token, error) {
	switch {
	case c == '{' || c == '[':
		if len(t.stack) >= 10000 { // encoding/json's limit
			return nil, errJSONToken
		}
		t.pos++
		t.valueDone()
		if c == '{' {
			t.stack = append(t.stack, objKeyOrEnd)
		} else {
			t.stack = append(t.stack, arrValueOrEnd)
		}
		return json.Delim(c), nil
	case c == '"':
		s, err := t.str()
		if err != nil {
			return nil, err
		}
		t.valueDone()
		return s, nil
	case c == '-' || '0' <= c && c <= '9':
		n, err := t.number()
		if err != nil {
			return nil, err
		}
		t.valueDone()
		return n, nil
	}
	for _, lit := range [...]struct {
		text string
		tok  json.Token
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(t.data)-t.pos >= len(lit.text) && string(t.data[t.pos:t.pos+len(lit.text)]) == lit.text {
			t.pos += len(lit.text)
			if t.pos < len(t.data) && !jsonDelimiter(t.data[t.pos]) {
				return nil, errJSONToken
			}
			t.valueDone()
			return lit.tok, nil
		}
	}
	return nil, errJSONToken
}

func jsonDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ']', '}', ':':
		return true
	}
	return false
}

// str reads a string at t.pos (a '"'): plain ones directly, those with
// escapes or bytes that are not UTF-8 through encoding/json.
func (t *jsonTokens) str() (string, error) {
	start := t.pos
	plain := true
	i := start + 1
	for ; i < len(t.data); i++ {
		c := t.data[i]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return "", errJSONToken
		}
		if c == '\\' {
			plain = false
			i++ // the escaped byte
			continue
		}
		if c >= 0x80 {
			plain = false
		}
	}
	if i >= len(t.data) {
		return "", errJSONToken
	}
	t.pos = i + 1
	raw := t.data[start : i+1]
	if plain {
		return string(raw[1 : len(raw)-1]), nil
	}
	if !hasBackslash(raw) && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errJSONToken
	}
	return s, nil
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// number reads a JSON number at t.pos.
func (t *jsonTokens) number() (json.Token, error) {
	d, start := t.data, t.pos
	i := start
	digits := func() int {
		n := 0
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case digits() == 0:
		return nil, errJSONToken
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			return nil, errJSONToken
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, errJSONToken
		}
	}
	if i < len(d) && !jsonDelimiter(d[i]) {
		return nil, errJSONToken
	}
	t.pos = i
	return json.Number(d[start:i]), nil
}
