package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"

	// the module that ships the SARIF 2.1.0 schema; imported so that go.mod
	// pins it and `go mod download` fetches it
	_ "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// sarifSchema returns the OASIS SARIF 2.1.0 JSON schema (errata01) as the
// go-sarif module ships it, read from the module's source.
func sarifSchema(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("locating go-sarif: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "pkg", "report", "v210", "sarif", "schema.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			v := sp.(*ast.ValueSpec)
			if len(v.Names) == 1 && v.Names[0].Name == "schema" {
				s, err := strconv.Unquote(v.Values[0].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(s, "SARIF) Version 2.1.0 JSON Schema") {
					t.Fatalf("%s does not hold the SARIF 2.1.0 schema", path)
				}
				return s
			}
		}
	}
	t.Fatalf("no schema constant in %s", path)
	return ""
}

// TestSARIFValidatesAgainstSchema checks the SARIF of a real scan (the
// bundled example estate) against the SARIF 2.1.0 JSON schema.
func TestSARIFValidatesAgainstSchema(t *testing.T) {
	schema := gojsonschema.NewStringLoader(sarifSchema(t))
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	out := filepath.Join(t.TempDir(), "report.sarif")
	_, stderr, code := run(t, "scan", "estate", "-m", "../../examples/estate/credscan.yaml", "--format", "sarif", "-o", out)
	if code != exitBlocking {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitBlocking, stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gojsonschema.Validate(schema, gojsonschema.NewBytesLoader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors() {
		t.Errorf("schema: %s", e) // the report holds no secret: other tests prove it
	}
	var doc struct {
		Runs []struct {
			Results []json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 1 || len(doc.Runs[0].Results) < 10 {
		t.Fatalf("want one run with the example estate's findings, got %d runs", len(doc.Runs))
	}
}

// TestSARIFSchemaCatchesErrors makes sure the validation above can fail.
func TestSARIFSchemaCatchesErrors(t *testing.T) {
	schema := gojsonschema.NewStringLoader(sarifSchema(t))
	bad := `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"fatal"}]}]}`
	res, err := gojsonschema.Validate(schema, gojsonschema.NewStringLoader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid() {
		t.Fatal("a result with level \"fatal\" passed the schema")
	}
}
