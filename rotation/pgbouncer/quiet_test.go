package pgbouncer

import "testing"

// A pool is quiet when nothing makes PgBouncer start a server login now or
// at the next transaction: a login PAUSE closes marks the pool's logins
// as failing, and clients are refused after RESUME (see settleLogins).
func TestQuiet(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Pool
		want bool
	}{
		{"no client, no server", Pool{}, true},
		{"clients and an idle server", Pool{ClActive: 20, SvIdle: 1}, true},
		{"a server logging in", Pool{ClActive: 20, SvIdle: 3, SvLogin: 1}, false},
		{"a client waiting", Pool{ClActive: 20, SvIdle: 3, ClWaiting: 1}, false},
		{"clients and no idle server", Pool{ClActive: 20}, false},
	} {
		p := c.p
		p.Database, p.User = "arp", "arp_app"
		other := Pool{Database: "other", User: "arp_app", SvLogin: 1, ClWaiting: 4, ClActive: 9}
		if got := Quiet([]Pool{p, other}, "arp"); got != c.want {
			t.Errorf("%s: Quiet %v, want %v", c.name, got, c.want)
		}
		if !Quiet([]Pool{other}, "arp") {
			t.Errorf("%s: another database's pool counts", c.name)
		}
	}
}
