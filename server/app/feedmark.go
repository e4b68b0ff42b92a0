package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// feedMarkFile is where a server keeps, in its data directory, the
// database's epoch and the change feed's head as it last served them.
const feedMarkFile = "feed-mark.json"

// feedMark is what feedMarkFile holds.
type feedMark struct {
	Epoch string    `json:"epoch"`
	Head  int64     `json:"head"`
	At    time.Time `json:"at"`
}

// ErrFeedBehind is a database whose change feed is behind what this data
// directory's server served from it before, under the same epoch.
var ErrFeedBehind = errors.New("the database's change feed is behind what this server served from it")

// checkFeedMark refuses a database whose feed has gone back under the
// epoch it had: restored from a dump or a copy that kept its epoch
// (pg_restore without the new epoch the README asks for; a SQLite file
// copied back by hand). Served so, the changes numbered again from the
// restored end would be passed by every phone whose cursor is beyond it,
// and what the phones pushed after the backup would never be sent again
// (ops probe: nothing warned). The feed's head only grows, so a head
// behind the mark under the same epoch is such a database. A mark of
// another epoch (a new one given, another database) is replaced.
func (a *App) checkFeedMark(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(a.Cfg.DataDir, feedMarkFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", feedMarkFile, err)
	}
	var m feedMark
	if json.Unmarshal(b, &m) != nil || m.Epoch != a.DB.Epoch() {
		return nil // not this database's (or unreadable): written anew
	}
	head, err := a.DB.FeedHead(ctx)
	if err != nil {
		return err
	}
	if head >= m.Head {
		return nil
	}
	how := "fieldsync epoch renew --data " + a.Cfg.DataDir
	if a.Cfg.Database != "" {
		how = "fieldsync epoch renew --database URL (every server stopped)"
	}
	return fmt.Errorf("%w: its head is %d, this server served it up to %d (%s) under the same epoch %s. "+
		"It was restored from a backup or a copy that kept its epoch: served so, phones would pass by the changes numbered again "+
		"and never send again what they pushed after the backup. Give it a new epoch before serving it: %s "+
		"(phones then pull everything again and send what the database lacks); "+
		"or, if this data directory served another database, remove %s",
		ErrFeedBehind, head, m.Head, m.At.Format(time.RFC3339), m.Epoch, how, filepath.Join(a.Cfg.DataDir, feedMarkFile))
}

// writeFeedMark records the database's epoch and feed head in the data
// directory (checkFeedMark), written whole or not at all. A failure is
// logged: the mark is a safeguard, not a condition of serving.
func (a *App) writeFeedMark(ctx context.Context) {
	head, err := a.DB.FeedHead(ctx)
	if err != nil {
		a.Log.Warn("feed mark: read the feed's head", "err", err)
		return
	}
	b, _ := json.Marshal(feedMark{Epoch: a.DB.Epoch(), Head: head, At: time.Now().UTC().Truncate(time.Second)})
	path := filepath.Join(a.Cfg.DataDir, feedMarkFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		a.Log.Warn("feed mark: write", "err", err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		a.Log.Warn("feed mark: write", "err", err)
	}
}

// markFeedEvery writes the feed mark every interval until ctx ends, and
// once more then.
func (a *App) markFeedEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			a.writeFeedMark(context.Background())
			return
		case <-t.C:
			a.writeFeedMark(ctx)
		}
	}
}
