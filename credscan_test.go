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
