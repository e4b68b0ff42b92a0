package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
	"github.com/xinzhou-eco/fieldsync/server/blobs3"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// migrateCmd copies a SQLite data directory's database into an empty
// PostgreSQL database, table by table, keeping the change feed's position,
// the HLC high-water mark and the epoch (so devices keep their cursors),
// and prints the row count of each table in both; it fails if any differs.
// With --blobs it then copies the photos (DIR/blobs) to an S3-compatible
// store, verifying each original's SHA-256 on the way; that part can be run
// again after an interruption. The server must be stopped meanwhile.
func migrateCmd(c *command) {
	c.uses = []string{"blobs"}
	from := c.fs.String("from", "", "data directory whose fieldsync.db to copy (default: --data)")
	to := c.fs.String("to", "", "PostgreSQL URL of an empty database (postgres://user@host/db; default: --database)")
	c.run = func(ctx context.Context) error {
		dir := *from
		if dir == "" {
			dir = c.cfg.DataDir
		}
		if *to == "" {
			*to = c.cfg.Database
		}
		if *to == "" {
			return errors.New("--to postgres://… is required")
		}
		if _, err := os.Stat(filepath.Join(dir, "fieldsync.db")); err != nil {
			return fmt.Errorf("no database to copy at %s: is --from (or --data) right?", filepath.Join(dir, "fieldsync.db"))
		}
		// No server may write the directory while it is copied: what it
		// wrote after the copy would be lost, under the same epoch.
		lock, locked, err := app.LockDataDir(dir)
		if err != nil {
			return fmt.Errorf("%w (stop the server first, then migrate)", err)
		}
		defer lock.Close()
		if !locked {
			fmt.Fprintln(c.stderr, "warning: the data directory's file system takes no locks: make sure no server is running on it")
		}
		// --blobs (the server's own flag, FIELDSYNC_BLOBS) names where the
		// photos go; without it they stay in the data directory. The store
		// is opened first: a wrong address is said before the database is
		// copied, not after.
		var photos server.BlobStore
		if c.cfg.Blobs != "" {
			if photos, err = blobs3.Open(ctx, c.cfg.Blobs); err != nil {
				return fmt.Errorf("open the photo store %s: %w; nothing was copied", c.cfg.Blobs, err)
			}
		}
		if err := migrateDatabase(ctx, c, dir, *to); err != nil {
			return err
		}
		// Uploads begun and not finished stay in the directory: a server
		// on it (--data) goes on with them; with the photos on S3 the
		// servers keep partial uploads in the bucket and do not know
		// them, and each phone sends its photo again from the start (a
		// resume answered 404, sync.md). Said, not silent.
		if infos, _ := filepath.Glob(filepath.Join(dir, "uploads", "*.info")); len(infos) > 0 {
			if photos == nil {
				fmt.Fprintf(c.stdout, "%d unfinished photo uploads stay in %s: a server run with --data %s goes on with them; at another, each phone sends its photo again from the start\n",
					len(infos), filepath.Join(dir, "uploads"), dir)
			} else {
				fmt.Fprintf(c.stdout, "%d unfinished photo uploads in %s are not copied: each phone sends its photo again from the start at its next sync\n",
					len(infos), filepath.Join(dir, "uploads"))
			}
		}
		if photos == nil {
			return nil
		}
		return migrateBlobs(ctx, c, filepath.Join(dir, "blobs"), photos)
	}
}

// migrateBlobs copies the photo files of a data directory to S3.
func migrateBlobs(ctx context.Context, c *command, dir string, dst server.BlobStore) error {
	src, err := blobfs.New(dir)
	if err != nil {
		return err
	}
	n, err := server.CopyBlobs(ctx, src, dst)
	fmt.Fprintf(c.stdout, "photos: %d stored, %d files copied, %d already there\n", n.Sums, n.Copied, n.Present)
	if err != nil {
		return fmt.Errorf("copy photos: %w", err)
	}
	return nil
}

// migrateDatabase copies the SQLite database of dir into the empty
// PostgreSQL database at to.
func migrateDatabase(ctx context.Context, c *command, dir, to string) error {
	path := filepath.Join(dir, "fieldsync.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database to copy: %w", err)
	}
	// Opening it applies the migrations this version has, so that its
	// tables are the ones the copy expects.
	lite, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	epoch := lite.Epoch()
	if err := lite.Close(); err != nil {
		return err
	}
	src, err := sql.Open("sqlite3", "file:"+path+"?_query_only=true&_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, to)
	if err != nil {
		return fmt.Errorf("open %s: %w", redact(to), err)
	}
	defer dst.Close()
	if dst.Epoch() == epoch {
		// Copied before (a migrate whose photos were interrupted, run
		// again): the photos only.
		fmt.Fprintf(c.stdout, "%s was copied to %s before (epoch %s): the database is not copied again\n", path, redact(to), epoch)
		if _, err := os.Stat(filepath.Join(dir, app.MigratedFile)); err == nil {
			return nil // its note keeps the time of the copy
		}
		return markMigrated(dir, to)
	}
	counts, err := dst.CopyFromSQLite(ctx, src)
	tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tSQLITE\tPOSTGRESQL\t")
	for _, n := range counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", n.Table, n.Source, n.Destination)
	}
	tw.Flush()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "copied %s to %s (epoch %s); every table's count matches\n", path, redact(to), dst.Epoch())
	return markMigrated(dir, to)
}

// markMigrated leaves in the directory the note (app.MigratedFile) that
// makes a server or tool refuse it from now on: phones syncing with a
// forgotten server on the old copy would see their work applied there,
// never reaching the offices, under the same database identity.
func markMigrated(dir, to string) error {
	note := fmt.Sprintf("migrated to %s at %s\n", redact(to), time.Now().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(dir, app.MigratedFile), []byte(note), 0o600); err != nil {
		return fmt.Errorf("mark %s as migrated: %w", dir, err)
	}
	return nil
}

// redact hides a URL's password and its query (which may carry keys):
// what may be printed of a database's or a photo store's address. One
// not a URL (a PostgreSQL key=value string) is said by its kind alone.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "PostgreSQL (a key=value connection string)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.Redacted()
}
