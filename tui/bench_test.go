package tui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
)

// benchEstate writes a manifest of n apps (owners, waves) and a tracker
// file in which each has a scan's inventory of occurrences and some
// ticks, as a real migration's would.
func benchEstate(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	var y strings.Builder
	y.WriteString("version: 1\ntargets:\n  - name: ARP\n    hosts: [arp-db.prod.internal]\napps:\n")
	for i := range n {
		fmt.Fprintf(&y, "  - name: app-%03d\n    owner: team-%02d\n    wave: %d\n    sources: [{dir: app-%03d}]\n", i, i%7, 1+i%4, i)
	}
	path := filepath.Join(dir, "credscan.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	m, err := manifest.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	tr := tracker.New(tracker.NewFileStore(m.TrackerFile()), nil)
	ctx := context.Background()
	for i, a := range m.Apps {
		inv := tracker.Inventory{At: t0, Hardcoded: 3, HistoryOnly: 5, Credentials: 2, Vaulted: 2, Pushed: true, CISecrets: []string{"ARP_DB_PASSWORD", "DATABASE_URL"}}
		for j := range 8 {
			inv.Occurrences = append(inv.Occurrences, tracker.Occurrence{Rule: "postgres-uri", Kind: "git", Path: fmt.Sprintf("config/%d/database.yml", j), Line: 3 + j,
				Commit: "0123456789abcdef0123456789abcdef01234567", Redacted: "url: postgres://arp_app:****@arp-db.prod.internal:5432/arp", AtTip: j < 3, HistoryOnly: j >= 3})
		}
		if err := tr.RecordScan(ctx, a.Name, inv); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := tr.Tick(ctx, a.Name, tracker.ReadsFromVault, "Vault Agent", ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	return path
}

// openEstate loads the manifest at path and opens its tracker file.
func openEstate(b *testing.B, path string) (*manifest.Manifest, *tracker.Tracker) {
	m, err := manifest.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	return m, tracker.New(tracker.NewFileStore(m.TrackerFile()), nil)
}

// signal is an output that says when a frame has shown want.
type signal struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want []byte
	once sync.Once
	seen chan struct{}
}

func (s *signal) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	if bytes.Contains(s.buf.Bytes(), s.want) {
		s.once.Do(func() { close(s.seen) })
	}
	return len(p), nil
}

// BenchmarkStartToFirstFrame measures what a dev lead waits for: load
// the manifest, open the tracker's file, start the program, load every
// app's state and draw the first frame that shows them (15 apps, the
// migration's size). Target: under 200 ms. Its peer in the same run is
// BenchmarkStatusTable: the same data printed by credscan status.
func BenchmarkStartToFirstFrame(b *testing.B) {
	path := benchEstate(b, 15)
	b.ResetTimer()
	for b.Loop() {
		m, tr := openEstate(b, path)
		out := &signal{want: []byte("app-014"), seen: make(chan struct{})}
		p := tea.NewProgram(New(Options{Manifest: m, Tracker: tr, Refresh: time.Hour}), tea.WithInput(&bytes.Buffer{}), tea.WithOutput(out),
			tea.WithoutSignals(), tea.WithWindowSize(120, 40))
		done := make(chan error, 1)
		go func() { _, err := p.Run(); done <- err }()
		select {
		case <-out.seen:
		case <-time.After(10 * time.Second):
			b.Fatal("no frame with the apps")
		}
		p.Quit()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusTable is the peer: credscan status's table of the same
// 15 apps (load the manifest and every state, render).
func BenchmarkStatusTable(b *testing.B) {
	path := benchEstate(b, 15)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		m, tr := openEstate(b, path)
		var rows []tracker.Row
		for _, a := range m.Apps {
			st, err := tr.Load(ctx, a.Name)
			if err != nil {
				b.Fatal(err)
			}
			rows = append(rows, tracker.Row{App: a.Name, Owner: a.Owner, Wave: a.Wave, State: st})
		}
		if err := tracker.WriteStatus(io.Discard, "table", rows); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrame2000Apps measures a frame with 2,000 apps loaded: the
// overview, the overview with a filter typed, a keystroke in the filter
// (Update and the frame after it) and an app's page. Target: under
// 10 ms a frame.
func BenchmarkFrame2000Apps(b *testing.B) {
	man := manyApps(2000)
	states := map[string]*tracker.AppState{}
	for i, a := range man.Apps {
		st := &tracker.AppState{App: a.Name, Inventory: &tracker.Inventory{At: t0, Hardcoded: i % 3, Credentials: 1, Vaulted: i % 2, Pushed: true,
			Occurrences: []tracker.Occurrence{{Rule: "postgres-uri", Kind: "dir", Path: ".env", Line: 1, Redacted: "DATABASE_URL=postgres://arp_app:****@arp-db/arp", AtTip: true}}}}
		if i%3 == 0 {
			st.History = append(st.History, tracker.Event{Step: tracker.ReadsFromVault, Kind: tracker.Tick, At: t0.Add(-time.Hour), Note: "agent"})
		}
		states[a.Name] = st
	}
	base := New(Options{Manifest: man, Tracker: tracker.New(tracker.NewFileStore(filepath.Join(b.TempDir(), "t.json")), nil), Refresh: time.Hour})
	next, _ := base.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	next, _ = next.(Model).Update(loadedMsg{states: states, at: t0})
	base = next.(Model)
	filtered := base
	for _, k := range []string{"/", "t", "e", "a", "m", "-", "1", "enter"} {
		next, _ = filtered.Update(keyMsg(k))
		filtered = next.(Model)
	}
	if n := len(filtered.overview.visible()); n == 0 || n == 2000 {
		b.Fatalf("the filter shows %d apps", n)
	}
	b.Run("overview", func(b *testing.B) {
		m := base
		m.overview.cursor = 1500
		for b.Loop() {
			_ = m.View()
		}
	})
	b.Run("overview-filtered", func(b *testing.B) {
		for b.Loop() {
			_ = filtered.View()
		}
	})
	b.Run("filter-keystroke", func(b *testing.B) {
		// "team-" is typed; each iteration types "1" on that model
		m := base
		for _, k := range []string{"/", "t", "e", "a", "m", "-"} {
			next, _ := m.Update(keyMsg(k))
			m = next.(Model)
		}
		for b.Loop() {
			next, _ := m.Update(keyMsg("1"))
			_ = next.(Model).View()
		}
	})
	b.Run("detail", func(b *testing.B) {
		next, _ := base.Update(keyMsg("enter"))
		m := next.(Model)
		for b.Loop() {
			_ = m.View()
		}
	})
}
