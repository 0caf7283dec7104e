package tui

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/credscan/credscan/internal/golden"
	"github.com/credscan/credscan/tracker"
)

// TestGoldenFrames runs every screen in a bubbletea program (teatest) at
// 80x24 and 160x48 and compares its last frame, without styles, with
// testdata/frames/<screen>-<w>x<h>.txt (go test -update rewrites them).
// Every frame is leak-checked against the secrets the fixture's scan
// found.
func TestGoldenFrames(t *testing.T) {
	screens := []struct {
		name  string
		setup func(*Options)
		then  func(*fixture) // after the first load
		keys  []string
		wait  string // output to wait for before quitting (async states)
	}{
		{name: "overview"},
		{name: "overview-filter", keys: []string{"/", "t", "e", "a", "m", "-", "l"}},
		{name: "help", keys: []string{"?"}},
		{name: "detail-contested", keys: []string{"enter"}},
		{name: "detail-ticked", keys: []string{"down", "enter", "down", "down", "down"}},
		{name: "dialog-deployed", setup: func(o *Options) { o.App = "reports-web" },
			keys: []string{"down", "down", "down", "space", "r", "o", "l", "l", "e", "d", " ", "o", "u", "t", "enter"}},
		{name: "read-only", setup: func(o *Options) { o.App, o.ReadOnly = "reports-web", true }},
		{name: "outage", setup: func(o *Options) { o.App = "billing-api" },
			then: func(f *fixture) { f.kv.down.Store(true) }, wait: "OUTAGE"},
	}
	for _, sc := range screens {
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			name := fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				o := f.o
				// the first load before the program starts: the frame does
				// not depend on when the program's own load lands
				if sc.setup != nil {
					sc.setup(&o)
				}
				m := loaded(t, New(o), size[0], size[1])
				if sc.then != nil {
					sc.then(f)
				}
				tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(size[0], size[1]))
				for _, k := range sc.keys {
					tm.Send(keyMsg(k))
				}
				if sc.wait != "" {
					teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(sc.wait)) },
						teatest.WithDuration(5*time.Second))
				}
				if err := tm.Quit(); err != nil {
					t.Fatal(err)
				}
				final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
				got := frame(final)
				f.leakFree(t, name, got)
				golden.Check(t, "frames/"+name+".txt", []byte(got))
			})
		}
	}
}

var _ tea.Model = Model{}

// TestProgramTicks drives the real program: typing q in the filter does
// not quit, enter opens the app, space and a note tick, and the tick is
// in the store before q quits.
func TestProgramTicks(t *testing.T) {
	f := newFixture(t)
	tm := teatest.NewTestModel(t, New(f.o), teatest.WithInitialTermSize(120, 40))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("WAVE 3")) }, teatest.WithDuration(5*time.Second))
	for _, k := range []string{"/", "q", "esc", "/", "r", "e", "p", "enter", "enter", "down", "down", "space"} {
		tm.Send(keyMsg(k))
	}
	tm.Type("checked with q&a")
	tm.Send(keyMsg("enter"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := f.tr.Load(context.Background(), "reports-web")
		if err != nil {
			t.Fatal(err)
		}
		if e := st.History[len(st.History)-1]; e.Kind == tracker.Tick {
			if e.Step != tracker.ReadsFromVault || e.Note != "checked with q&a" || e.Actor.Vault != "token-dana" {
				t.Fatalf("stored %+v", e)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tick never reached the store")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.Send(keyMsg("q"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	if !final.quitting || final.screen != detailScreen || final.detail.app != "reports-web" {
		t.Errorf("final screen %v app %q quitting %v", final.screen, final.detail.app, final.quitting)
	}
}
