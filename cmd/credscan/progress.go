package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/report"
)

// progressShown says whether a live progress line goes to w: only on a
// terminal, not with --quiet, not in CI, not on a dumb terminal.
func progressShown(w io.Writer, quiet bool) bool {
	fh, ok := w.(*os.File)
	return ok && !quiet && term.IsTerminal(int(fh.Fd())) && os.Getenv("CI") == "" && os.Getenv("TERM") != "dumb"
}

// liveLine is stderr with a live line at its bottom: what is written
// through it (log lines, warnings) clears the line first, and the line is
// drawn again on the next tick. It is safe for concurrent use.
type liveLine struct {
	mu    sync.Mutex
	w     io.Writer
	shown bool
}

func (l *liveLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
	return l.w.Write(p)
}

// draw shows s as the live line ("" clears it).
func (l *liveLine) draw(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprint(l.w, "\r\x1b[K"+s)
	l.shown = s != ""
}

// startProgress draws the session's progress on l four times a second
// until stop, which clears it.
func startProgress(l *liveLine, s *estate.Session) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				l.draw("")
				return
			case <-t.C:
				l.draw(progressLine(s.Progress(), time.Since(start), 100))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// progressLine renders p, elapsed into the run, in at most width runes:
// the source, items (of the total when known) and bytes read, the rate,
// and an ETA when the total is final.
func progressLine(p estate.Progress, elapsed time.Duration, width int) string {
	secs := max(elapsed.Seconds(), 0.001)
	items := fmt.Sprintf("%d items", p.Items)
	if p.TotalItems > 0 {
		items = fmt.Sprintf("%d/%d items", p.Items, p.TotalItems)
	}
	line := fmt.Sprintf("%s: %s, %.1f MB, %.1f MB/s", report.Visible(p.Source), items, float64(p.RunBytes)/1e6, float64(p.RunBytes)/1e6/secs)
	if p.Final && p.TotalItems > 0 && p.Items > 0 && p.Items < p.TotalItems {
		rate := float64(p.Items) / secs
		eta := time.Duration(float64(p.TotalItems-p.Items)/rate) * time.Second
		line += fmt.Sprintf(", ETA %s", eta.Round(time.Second))
	}
	if r := []rune(line); len(r) > width {
		line = string(r[:width-1]) + "…"
	}
	return line
}
