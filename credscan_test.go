package credscan

import (
	"math/rand/v2"
	"testing"
)

func TestSettledLinesIsSettled(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 2000; trial++ {
		n := r.IntN(60)
		u := make([]bool, n)
		for i := range u {
			u[i] = r.IntN(8) != 0
		}
		margin := r.IntN(9)
		got := SettledLines(u, margin, nil)
		for i := range u {
			if got[i] != Settled(u, i, margin) {
				t.Fatalf("%v margin %d: line %d settled %v, Settled says %v", u, margin, i, got[i], !got[i])
			}
		}
	}
}

// A credential's identity is the richest of its findings', the same
// whatever order the findings came in (the scan's workers decide it):
// two equally rich identities, one with a driver, over every order.
func TestGroupIdentityIsOrderFree(t *testing.T) {
	uri := &DBIdentity{Driver: "postgresql", User: "arp_app", Host: "arp-db", Port: 5432, Database: "arp"}
	svc := &DBIdentity{User: "arp_app", Host: "arp-db", Port: 5432, Database: "arp"}
	thin := &DBIdentity{User: "arp_app"}
	mk := func(path string, id *DBIdentity) *Finding {
		return &Finding{RuleID: "r", Origin: Origin{Kind: KindDir, Path: path, Line: 1}, Fingerprint: "fp", Database: true, DB: id}
	}
	base := []*Finding{mk("a/.env", uri), mk("b/pg_service.conf", svc), mk("c/x.sh", thin)}
	want := ""
	for _, order := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		fs := make([]*Finding, len(order))
		for i, k := range order {
			fs[i] = base[k]
		}
		cs := Group(fs)
		if len(cs) != 1 || cs[0].DB == nil {
			t.Fatalf("order %v: %d credentials", order, len(cs))
		}
		got := cs[0].DB.String()
		if want == "" {
			want = got
		}
		if got != want || cs[0].DB != uri {
			t.Errorf("order %v: identity %s, want %s (the first richest in report order)", order, got, uri.String())
		}
	}
}
