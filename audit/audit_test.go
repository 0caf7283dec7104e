package audit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func writeLog(t *testing.T, n int) (string, [][]byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(p)
	for i := 0; i < n; i++ {
		if _, err := l.Append(context.Background(), Record{Action: "scan", Scope: []string{"billing-api"}, Result: "ok", Counts: map[string]int{"findings": i}}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, bytes.SplitAfter(bytes.TrimRight(b, "\n"), []byte("\n"))
}

func verify(t *testing.T, lines [][]byte) *Problem {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(bytes.TrimRight(l, "\n"))
		b.WriteByte('\n')
	}
	_, p, err := Verify(&b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyDetectsTampering(t *testing.T) {
	_, lines := writeLog(t, 5)
	if p := verify(t, lines); p != nil {
		t.Fatalf("intact log: %v", p)
	}
	cp := func() [][]byte {
		out := make([][]byte, len(lines))
		for i, l := range lines {
			out[i] = append([]byte(nil), l...)
		}
		return out
	}
	edited := cp()
	edited[2] = bytes.Replace(edited[2], []byte(`"findings":2`), []byte(`"findings":0`), 1)
	deleted := append(cp()[:2], cp()[3:]...)
	inserted := cp()
	inserted = append(inserted[:3], append([][]byte{inserted[1]}, inserted[3:]...)...)
	reordered := cp()
	reordered[1], reordered[2] = reordered[2], reordered[1]
	forged := cp()
	// a whole forged line: consistent hash, but not chained
	forged[3] = []byte(strings.Replace(string(forged[3]), `"result":"ok"`, `"result":"failed"`, 1))
	for name, c := range map[string]struct {
		lines [][]byte
		line  int
		has   string
	}{
		"edited":    {edited, 3, "edited"},
		"deleted":   {deleted, 3, "deleted or moved"},
		"inserted":  {inserted, 4, "moved or inserted"},
		"reordered": {reordered, 2, "deleted or moved"},
		"forged":    {forged, 4, "edited"},
	} {
		p := verify(t, c.lines)
		if p == nil || p.Line != c.line || !strings.Contains(p.Reason, c.has) {
			t.Errorf("%s: got %v, want line %d (%s)", name, p, c.line, c.has)
		}
	}
}

// Appends from several processes' worth of goroutines stay one chain.
func TestConcurrentAppendsChain(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if _, err := Open(p).Append(context.Background(), Record{Action: "scan", Result: "ok"}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	recs, prob, err := VerifyFile(p)
	if err != nil || prob != nil || len(recs) != 80 {
		t.Fatalf("%d records, %v, %v", len(recs), prob, err)
	}
}

// A recorder records every action as the actor it was made with, and the
// chain verifies; records from several goroutines are all there.
func TestRecorderRecordsAsOneActor(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	actor := Actor{Vault: "alice", Entity: "ent-1", Accessor: "acc-1", OSUser: "alice", Host: "h"}
	rec := NewRecorder(Open(p), actor)
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := rec.Record(context.Background(), Record{Action: "tick", Result: "ok", Actor: Actor{Vault: "mallory"}})
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	recs, prob, err := VerifyFile(p)
	if err != nil || prob != nil || len(recs) != 8 {
		t.Fatalf("%d records, %v %v", len(recs), prob, err)
	}
	for _, r := range recs {
		if r.Actor != actor {
			t.Errorf("record %d: actor %+v", r.Seq, r.Actor)
		}
	}
	if a := LocalActor(); a.Host == "" || a.OSUser == "" {
		t.Errorf("local actor %+v", a)
	}
}
