package estate

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/vaultsync"
)

// inventories are the tracker's evidence of each app the run scanned:
// its copies of the migrating target's credentials at the tip and only in
// history, what it references, its credentials and how many of them are
// in Vault after the push, every occurrence (redacted) and the CI secret
// names it depends on.
func (s *Session) inventories(r *Results) map[string]tracker.Inventory {
	migrating := "ARP"
	if s.m != nil && s.m.Vault.Migrating != "" {
		migrating = s.m.Vault.Migrating
	}
	now := s.now()
	out := map[string]tracker.Inventory{}
	for _, app := range s.scannedApps {
		out[app] = tracker.Inventory{At: now, Referenced: r.Stats.Referenced[app], Encrypted: r.Stats.Encrypted[app], Pushed: r.Pushed != nil && !r.DryRun}
	}
	pushed := map[string]bool{}
	for _, o := range r.Pushed {
		if o.Action != vaultsync.Failed {
			pushed[o.Path] = true
		}
	}
	var layout vaultsync.Layout
	if s.o.Push != nil {
		layout = s.o.Push.Store.Layout()
	}
	byApp := map[string][]*credscan.Finding{}
	for _, f := range r.Findings {
		inv, ok := out[f.Origin.App]
		if !ok {
			continue
		}
		ours := strings.EqualFold(f.Target, migrating)
		historyOnly := slices.Contains(f.Tags, "git:history-only") || slices.Contains(f.Tags, "image:deleted-later")
		o := tracker.Occurrence{Rule: f.RuleID, Kind: string(f.Origin.Kind), Target: f.Origin.Target, Path: f.Origin.Path, Line: f.Origin.Line,
			Commit: f.Origin.Commit, Layer: f.Origin.Layer, Redacted: f.Redacted, AtTip: !historyOnly,
			HistoryOnly: slices.Contains(f.Tags, "git:history-only"), DeletedLater: slices.Contains(f.Tags, "image:deleted-later")}
		if f.DB != nil {
			o.DB = f.DB.String()
		}
		if ours {
			if historyOnly {
				inv.HistoryOnly++
			} else {
				inv.Hardcoded++
			}
			byApp[f.Origin.App] = append(byApp[f.Origin.App], f)
		}
		inv.Occurrences = append(inv.Occurrences, o)
		out[f.Origin.App] = inv
	}
	for app, fs := range byApp {
		inv := out[app]
		for _, c := range credscan.Group(fs) {
			if !slices.ContainsFunc(c.Findings, func(f *credscan.Finding) bool { return f.Database }) {
				continue
			}
			inv.Credentials++
			if pushed[layout.CredentialPath(c.CredentialKey)] {
				inv.Vaulted++
			}
		}
		out[app] = inv
	}
	for _, cs := range r.CISecrets {
		if inv, ok := out[cs.Origin.App]; ok && !slices.Contains(inv.CISecrets, cs.Name) {
			inv.CISecrets = append(inv.CISecrets, cs.Name)
			out[cs.Origin.App] = inv
		}
	}
	return out
}

// recordInventories stores each scanned app's evidence in the tracker; a
// tracker that cannot be written is a problem of the run, not its end.
func (s *Session) recordInventories(ctx context.Context, r *Results) {
	if s.o.Tracker == nil {
		return
	}
	failed := s.o.Tracker.RecordScans(ctx, s.inventories(r))
	for _, app := range slices.Sorted(maps.Keys(failed)) {
		err := failed[app]
		s.log.Warn("the tracker could not record the scan", "app", app, "error", err.Error())
		r.Stats.Problems = append(r.Stats.Problems, "tracker: "+app+": "+err.Error())
	}
}
