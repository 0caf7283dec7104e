package dir_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/chunk"
	"github.com/credscan/credscan/scanners/engine"
)

func utf16Bytes(s string, big, bom bool) []byte {
	var out []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	for _, u := range units {
		if big {
			out = binary.BigEndian.AppendUint16(out, u)
		} else {
			out = binary.LittleEndian.AppendUint16(out, u)
		}
	}
	return out
}

// UTF-16 files (with or without a byte order mark, either order, read
// whole or streamed) are decoded and scanned, and text after a run of zero
// bytes (a sparse file) is not taken for binary: a DSN in either was
// silently skipped as binary.
func TestUTF16AndSparseFilesAreScanned(t *testing.T) {
	text := "# settings\r\nSERVER=x\r\nDATABASE_URL=postgres://arp_app:Qw7utfK9x2@arp-db.prod.internal/arp\r\n"
	big := strings.Repeat("# a comment line that pads the file out\r\n", (chunk.DefaultWhole/40)/2+1000) + text
	root := t.TempDir()
	files := map[string][]byte{
		"le-bom.env":   utf16Bytes(text, false, true),
		"be-bom.env":   utf16Bytes(text, true, true),
		"le.env":       utf16Bytes(text, false, false),
		"be.env":       utf16Bytes(text, true, false),
		"big-le.env":   utf16Bytes(big, false, true),
		"plain.env":    []byte(text),
		"binary.bin":   append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00"), []byte(text)...),
		"sparse.env":   nil, // written below with a hole
		"sparse-big.x": nil,
	}
	for name, b := range files {
		if b != nil {
			if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, hole := range map[string]int64{"sparse.env": 100 << 10, "sparse-big.x": chunk.DefaultWhole + 3<<20} {
		f, err := os.Create(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("\n"+text), hole); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	res := scan(t, scantest.Engine(t, engine.RulesDB), []string{root})
	found := map[string]int{}
	for _, f := range res.Findings {
		found[f.Origin.Path] = f.Origin.Line
	}
	want := map[string]int{"le-bom.env": 3, "be-bom.env": 3, "le.env": 3, "be.env": 3, "plain.env": 3, "sparse.env": 4, "sparse-big.x": 4,
		"big-le.env": strings.Count(big, "\n")}
	for name, line := range want {
		if found[name] != line {
			t.Errorf("%s: found at line %d, want %d", name, found[name], line)
		}
	}
	if _, ok := found["binary.bin"]; ok || res.Stats.Binary != 1 {
		t.Errorf("binary: found %v, %d binary", ok, res.Stats.Binary)
	}
}
