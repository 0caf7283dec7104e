package engine_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
)

// plant is a credential written as one line (a code block: three) into
// a real file of a kind it is met in.
type plant struct {
	ext  string // the kind of file it goes into
	line string // %s: the password
}

// plants: the kinds real estates hold, each in text no one here wrote,
// the four that the rules once missed in real text first (a driver-suffixed
// URL, a pgpass line a script writes, an unencoded # in a URI password, a
// PGPASSWORD in a Markdown code block).
var plants = []plant{
	{".go", `	// DATABASE_URL=postgresql+psycopg2://arp_app:%s@arp-db.prod.internal:5432/arp`},
	{".bash", `echo "arp-db.prod.internal:5432:arp:arp_app:%s" >> ~/.pgpass`},
	{".go", `	const dsn = "postgresql://report:%s@10.20.30.40:5432/reports"`},
	{".md", "```yaml\nPGPASSWORD: %s\n```"},
	{".go", `	url := "jdbc:postgresql://arp-db.prod.internal:5432/arp?user=arp_app&password=%s"`},
	{".go", `	db, _ := sql.Open("postgres", "host=arp-db.prod.internal user=arp_app password=%s dbname=arp")`},
	{".go", `	// mysql://shop:%s@mysql.prod.internal:3306/shop`},
	{".txt", `DB_PASSWORD=%s`},
	{".go", `	dsn := "sqlserver://sa:%s@mssql.prod.internal:1433?database=erp"`},
	{".txt", `export PGPASSWORD='%s'`},
	{".go", `	conn := "Server=mssql.prod.internal;Database=erp;User Id=erp;Password=%s;"`},
	{".go", `	redisURL := "redis://:%s@cache.prod.internal:6379/0"`},
	{".yaml", `    password: "%s"`},
	{".go", `	mongo := "mongodb://app:%s@mongo.prod.internal:27017/app"`},
	{".json", `    "connectionString": "postgres://arp_app:%s@arp-db.prod.internal:5432/arp",`},
	{".txt", `spring.datasource.password=%s`},
	{".go", `	// psql "postgresql://arp_backup:%s@arp-db.prod.internal/arp"`},
	{".bash", `export DATABASE_URL="postgres://arp_app:%s@arp-db.prod.internal:5432/arp"`},
	{".go", `	cfg := mysql.Config{User: "shop", Passwd: "%s", Addr: "mysql.prod.internal:3306"}`},
	{".html", `<!-- jdbc:mysql://shop:%s@mysql.prod.internal:3306/shop -->`},
}

// Twenty credentials planted one each at a random line of a random real
// file (Go's own source tree: Go, Markdown, shell, text, YAML, JSON,
// HTML), with random passwords that have the characters real ones do:
// the default rules find all twenty at their place, and the DB pack
// alone the database ones.
//
// CREDSCAN_PLANT_TREE=DIR plants into the files of another tree (issue 18
// measured the Go module corpus, bench/mkcorpus-mods.sh), and
// CREDSCAN_PLANT_SEED=N picks other places and passwords.
func TestPlantedInRealText(t *testing.T) {
	src := os.Getenv("CREDSCAN_PLANT_TREE")
	if src == "" {
		src = scantest.GoSrc(t)
	}
	seed := uint64(18)
	if s := os.Getenv("CREDSCAN_PLANT_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatalf("CREDSCAN_PLANT_SEED: %v", err)
		}
	}
	byExt := map[string][]string{}
	_ = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "testdata") && filepath.Ext(p) != ".json" {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Size() > 1024 && fi.Size() < 256<<10 && isText(p) {
			byExt[filepath.Ext(p)] = append(byExt[filepath.Ext(p)], p)
		}
		return nil
	})
	rng := rand.New(rand.NewPCG(seed, 6))
	root := t.TempDir()
	type planted struct {
		path   string
		line   int
		secret string
		db     bool
		from   string // the real file it went into
	}
	var want []planted
	for i, pl := range plants {
		files := byExt[pl.ext]
		if len(files) == 0 {
			t.Fatalf("no %s file in %s", pl.ext, src)
		}
		from := files[rng.IntN(len(files))]
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		at := rng.IntN(len(lines))
		pw := password(rng, pl.line == plants[2].line)
		text := fmt.Sprintf(pl.line, pw)
		line := at + 1
		if strings.HasPrefix(text, "```") {
			line++ // the secret's line is the block's second
		}
		out := slices.Concat(bytes.Join(lines[:at], nil), []byte(text+"\n"), bytes.Join(lines[at:], nil))
		rel := fmt.Sprintf("f%02d%s", i, pl.ext)
		if err := os.WriteFile(filepath.Join(root, rel), out, 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, planted{rel, line, pw, !strings.Contains(pl.line, "redis"), from})
	}
	for _, rs := range []engine.RuleSet{engine.RulesAll, engine.RulesDB} {
		src, err := dir.New([]string{root})
		if err != nil {
			t.Fatal(err)
		}
		res := scantest.Scan(t, scantest.Engine(t, rs), src)
		found := 0
		for _, w := range want {
			if rs == engine.RulesDB && !w.db {
				continue
			}
			if slices.ContainsFunc(res.Findings, func(f *credscan.Finding) bool {
				return f.Origin.Path == w.path && f.Origin.Line == w.line && f.Secret.Reveal() == w.secret
			}) {
				found++
				continue
			}
			t.Errorf("%s: the credential planted at %s:%d (line %d of %s) was not found", rs, w.path, w.line, w.line, w.from)
		}
		t.Logf("%s: %d planted credentials found", rs, found)
	}
}

// isText says whether the file at p is text (no zero byte in its first 8
// KB): real text, not a bitmap that happens to be named .txt.
func isText(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 8<<10)
	n, _ := f.Read(head)
	return bytes.IndexByte(head[:n], 0) < 0
}

// password is a random password of 14 characters from the set real ones
// use (with an unencoded # when hash).
func password(rng *rand.Rand, hash bool) string {
	const chars = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!_-."
	b := make([]byte, 14)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	b[0] = 'P' // a letter first: no option-like or numeric start
	if hash {
		b[7] = '#'
	}
	return string(b)
}
