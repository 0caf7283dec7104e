// Package loadgen is the rotation's load generator: clients that connect,
// run one short transaction and disconnect, continuously, counting failed
// logins, failed transactions and the worst wait per stage. The tests and
// the benchmark run it through PgBouncer and through the Vault pointer
// while a cutover, a rollback or a password rotation happens.
package loadgen

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Connect opens a client's connection (through the broker, or to where
// the pointer says).
type Connect func(ctx context.Context) (*pgx.Conn, error)

// Stats are one stage's counts.
type Stats struct {
	Transactions int           // committed
	FailedLogins int           // connect or authentication failed
	FailedTx     int           // the transaction failed after a login
	WorstWait    time.Duration // the longest connect+transaction
	LastError    string        // the last failure (no secret: pgx errors name user and host only)
}

// Group is clients running the same loop.
type Group struct {
	mu     sync.Mutex
	stage  string
	stats  map[string]*Stats
	order  []string
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start runs n clients of connect until Stop; query is the transaction's
// statement; pause is each client's rest between transactions.
func Start(n int, connect Connect, query string, pause time.Duration) *Group {
	ctx, cancel := context.WithCancel(context.Background())
	g := &Group{stats: map[string]*Stats{}, cancel: cancel}
	g.Mark("start")
	for range n {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			for ctx.Err() == nil {
				g.once(ctx, connect, query)
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		}()
	}
	return g
}

func (g *Group) once(ctx context.Context, connect Connect, query string) {
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := connect(cctx)
	if err != nil {
		if ctx.Err() == nil {
			g.count(func(s *Stats) { s.FailedLogins++; s.LastError = err.Error() }, time.Since(start))
		}
		return
	}
	defer c.Close(context.Background())
	tx, err := c.Begin(cctx)
	if err == nil {
		_, err = tx.Exec(cctx, query)
		if err == nil {
			err = tx.Commit(cctx)
		} else {
			_ = tx.Rollback(context.Background())
		}
	}
	if ctx.Err() != nil {
		return // stopping: not a failure of the system under test
	}
	wait := time.Since(start)
	if err != nil {
		g.count(func(s *Stats) { s.FailedTx++; s.LastError = err.Error() }, wait)
		return
	}
	g.count(func(s *Stats) { s.Transactions++ }, wait)
}

func (g *Group) count(f func(*Stats), wait time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats[g.stage]
	f(s)
	if wait > s.WorstWait {
		s.WorstWait = wait
	}
}

// Mark starts counting under stage.
func (g *Group) Mark(stage string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stage = stage
	if g.stats[stage] == nil {
		g.stats[stage] = &Stats{}
		g.order = append(g.order, stage)
	}
}

// Stage returns a stage's counts so far.
func (g *Group) Stage(stage string) Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.stats[stage]; s != nil {
		return *s
	}
	return Stats{}
}

// Stages are the stages in the order they were marked.
func (g *Group) Stages() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string{}, g.order...)
}

// Stop stops the clients and waits for them.
func (g *Group) Stop() {
	g.cancel()
	g.wg.Wait()
}
