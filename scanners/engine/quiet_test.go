package engine

import "testing"

// A window's key names the unit, the path and the text; the set forgets
// everything when full.
func TestQuietWindows(t *testing.T) {
	var q quietWindows
	k := q.key(1, "a.go", []byte("token = x"))
	for _, other := range [][2]uint64{q.key(2, "a.go", []byte("token = x")), q.key(1, "b.go", []byte("token = x")), q.key(1, "a.go", []byte("token = y")), q.key(1, "a.gotoken", []byte(" = x"))} {
		if other == k {
			t.Fatal("two different windows share a key")
		}
	}
	q.add(k)
	if !q.has(k) || q.has(q.key(1, "a.go", []byte("token = y"))) {
		t.Fatal("has")
	}
	for i := 0; len(q.seen) < maxQuiet; i++ {
		q.add([2]uint64{uint64(i), 7})
	}
	q.add([2]uint64{1, 1})
	if q.has(k) || !q.has([2]uint64{1, 1}) || len(q.seen) != 1 {
		t.Fatal("a full set was not emptied")
	}
}
