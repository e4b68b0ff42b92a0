package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// This file copies the write-ahead log into the database file in the
// background.
//
// In WAL mode SQLite checkpoints from the connection that commits: the
// commit that takes the log past wal_autocheckpoint pages also copies
// every page of the log into the database file and syncs both, and the
// push that made it waits for all that. Here a goroutine on a connection
// of its own checkpoints (PASSIVE: it never blocks the writer or a reader)
// shortly after writes, while the writer goes on committing; the writer's
// own automatic checkpoint stays, at a higher mark, as a backstop should
// the goroutine fall behind.
//
// SQLite starts the log over (writes it from its first frame again) only
// in a write transaction that begins after a checkpoint has copied all of
// it. Under pushes that come back to back, a commit lands during most
// copies, and the next transaction has often begun before the copy ends:
// a goroutine that only copied what it saw would let the log grow to the
// backstop, which then checkpoints inside a push every few pushes
// (docs/benchmarks.md, issue 14's tenth and twelfth passes). So each round
// copies again while commits came in during its last pass (catchUp), and
// then, if the writer is idle at that moment, makes a last pass holding
// it: the log is then whole in the database file when the next
// transaction begins. When a checkpoint could not copy every frame it saw
// (a reader still needed older ones), the goroutine waits for the writer
// and copies the rest holding it.
//
// Durability is SQLite's either way: a commit is in the log before the
// push is answered, and a checkpoint only moves pages the log already
// holds.

const (
	// checkpointEvery is the least time between two background
	// checkpoint rounds: the pages of a burst of small commits are copied
	// and synced once, however many of them wrote a page.
	checkpointEvery = 100 * time.Millisecond
	// checkpointSoon replaces checkpointEvery after a round that found at
	// least soonFrames in the log: large commits (a push of 500 new
	// records writes about 750 pages) share few pages, and the log must
	// stay short enough to be copied whole between two of them.
	checkpointSoon = 20 * time.Millisecond
	soonFrames     = 512
	// backstopPages is the writer's own wal_autocheckpoint (SQLite's
	// default is 1000 pages): the log the writer lets grow before it
	// checkpoints itself.
	backstopPages = 4096
	// writerCacheKiB is the writer connection's page cache. The records a
	// push merges are read and their indexes updated at random places (ids
	// are random): a cache that holds the indexes of a county's year of
	// records saves each of those a read from the operating system. The
	// readers keep SQLite's default (2 MiB each).
	writerCacheKiB = 16 << 10
)

// checkpointer runs background checkpoints for one database.
type checkpointer struct {
	conn *sql.DB
	lock *sync.Mutex // the writer's (DB.mu)
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	// ran, if set (tests), receives the result of each checkpoint.
	ran chan checkpointResult
	// between, if set (tests), runs after each of catchUp's passes.
	between func()

	closeOnce sync.Once
	closeErr  error
}

// checkpointResult is what PRAGMA wal_checkpoint answers: whether it could
// not run to the end (busy), the frames in the log and those copied.
type checkpointResult struct {
	Busy, Log, Copied int
	Err               error
}

// startCheckpointer opens the checkpointing connection and starts its
// goroutine, and sets the writer's backstop.
func (db *DB) startCheckpointer(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", backstopPages)); err != nil {
		return fmt.Errorf("set wal_autocheckpoint: %w", err)
	}
	conn, err := sql.Open("sqlite3", dsn(db.path, false))
	if err != nil {
		return fmt.Errorf("open checkpointer: %w", err)
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, lock: &db.mu, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		ran: db.checkpointed, between: db.checkpointBetween}
	db.ckpt = c
	go c.run()
	return nil
}

// wrote tells the checkpointer that a write transaction committed.
func (c *checkpointer) wrote() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default: // one is pending already
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		res := c.catchUp()
		switch {
		case res.Err != nil:
		case res.Copied < res.Log:
			// Readers still needed older frames when it copied: copy
			// the rest with the writer held, so that no commit adds
			// more.
			c.lock.Lock()
			res = c.checkpoint()
			c.lock.Unlock()
		case c.lock.TryLock():
			// The writer is idle: copy what was committed since the
			// last pass (usually nothing, and then this returns at
			// once) with it held, so that the whole log is copied when
			// the next write transaction begins, and SQLite starts the
			// log over. A busy writer is not waited for: its commit's
			// kick tries again.
			res = c.checkpoint()
			c.lock.Unlock()
		}
		if c.ran != nil {
			select {
			case c.ran <- res:
			case <-c.stop:
				return
			}
		}
		// A failed checkpoint is left to the next one, or to the writer's
		// backstop.
		select {
		case <-c.stop:
			return
		case <-time.After(roundGap(res)):
		}
	}
}

// roundGap is the least time from a round that ended with res to the
// next.
func roundGap(res checkpointResult) time.Duration {
	if res.Log >= soonFrames {
		return checkpointSoon
	}
	return checkpointEvery
}

// catchUpPasses bounds the checkpoints one round makes without the writer
// after its first.
const catchUpPasses = 3

// catchUp checkpoints without holding the writer until no commit has
// come in during the last pass, or until catchUpPasses more passes, and
// returns the last pass's result. A pass copies the frames the log held
// when it began, and under pushes that keep coming a commit lands during
// most copies; each pass is shorter than the one before (it copies only
// what was committed during it). SQLite starts the log over only in a
// write transaction that begins after a checkpoint has copied all of it:
// a log never copied whole grows to the writer's backstop, which then
// checkpoints inside a push.
func (c *checkpointer) catchUp() checkpointResult {
	res := c.pass()
	for range catchUpPasses {
		if res.Err != nil || res.Copied < res.Log || !c.committed() {
			return res
		}
		res = c.pass()
	}
	return res
}

// pass is one of catchUp's checkpoints.
func (c *checkpointer) pass() checkpointResult {
	res := c.checkpoint()
	if c.between != nil {
		c.between()
	}
	return res
}

// committed takes the kick of a commit made since the last pass began
// (during it, or after it), if one came: the next pass copies that
// commit.
func (c *checkpointer) committed() bool {
	select {
	case <-c.kick:
		return true
	default:
		return false
	}
}

// checkpoint runs one PASSIVE checkpoint.
func (c *checkpointer) checkpoint() checkpointResult {
	var res checkpointResult
	res.Err = c.conn.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&res.Busy, &res.Log, &res.Copied)
	return res
}

// close stops the goroutine and closes its connection; it may be called
// more than once.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.closeOnce.Do(func() {
		close(c.stop)
		<-c.done
		c.closeErr = c.conn.Close()
	})
	return c.closeErr
}
