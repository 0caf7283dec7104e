// Command plant writes n files, each holding one database credential in
// one of the formats credscan's DB pack covers, with a random password.
// bench/compare-gitleaks.sh counts which tool finds which file.
package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "planted", "output directory")
	n := flag.Int("n", 200, "number of files")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	type tmpl struct{ name, body string }
	forms := []tmpl{
		{"app-%d.env", "DATABASE_URL=postgres://arp_app:%s@arp-db.prod.internal:5432/arp\n"},
		{"Config%d.java", "String url = \"jdbc:postgresql://arp-db:5432/arp?user=arp_app&password=%s\";\n"},
		{"db%d.py", "conn = psycopg2.connect(\"host=arp-db dbname=arp user=arp_app password=%s\")\n"},
		{"backup%d.sh", "export PGHOST=arp-db\nexport PGUSER=arp_backup\nexport PGPASSWORD='%s'\n"},
		{"application%d.properties", "spring.datasource.url=jdbc:postgresql://arp-db/arp\nspring.datasource.username=arp_app\nspring.datasource.password=%s\n"},
		{"settings%d.py", "DATABASES = {\n  'default': {\n    'ENGINE': 'django.db.backends.postgresql',\n    'USER': 'arp_app',\n    'PASSWORD': '%s',\n  }\n}\n"},
		{"appsettings%d.json", "{\"ConnectionStrings\": {\"Arp\": \"Server=arp-db;Database=arp;User Id=arp_app;Password=%s;\"}}\n"},
		{"roles%d.sql", "CREATE ROLE arp_app WITH LOGIN PASSWORD '%s';\n"},
		{"pgpass%d.pgpass", "arp-db:5432:arp:arp_app:%s\n"},
		{"database%d.yml", "production:\n  adapter: postgresql\n  host: arp-db\n  username: arp_app\n  password: %s\n"},
	}
	for i := 0; i < *n; i++ {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		pw := "Pw" + hex.EncodeToString(b[:6]) + base64.RawURLEncoding.EncodeToString(b[6:])
		f := forms[i%len(forms)]
		name := filepath.Join(*dir, fmt.Sprintf(f.name, i))
		if err := os.WriteFile(name, []byte(fmt.Sprintf(f.body, pw)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
