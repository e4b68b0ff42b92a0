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

	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// migrateCmd copies a SQLite data directory's database into an empty
// PostgreSQL database, table by table, keeping the change feed's position,
// the HLC high-water mark and the epoch (so devices keep their cursors),
// and prints the row count of each table in both; it fails if any differs.
// The server must be stopped meanwhile. Photo bytes stay where they are.
func migrateCmd(c *command) {
	from := c.fs.String("from", "", "data directory whose fieldsync.db to copy (default: --data)")
	to := c.fs.String("to", "", "PostgreSQL URL of an empty database (postgres://user@host/db)")
	c.run = func(ctx context.Context) error {
		dir := *from
		if dir == "" {
			dir = c.cfg.DataDir
		}
		if *to == "" {
			return errors.New("--to postgres://… is required")
		}
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
		if err := lite.Close(); err != nil {
			return err
		}
		src, err := sql.Open("sqlite3", "file:"+path+"?_query_only=true&_busy_timeout=10000")
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := postgres.Open(ctx, *to)
		if err != nil {
			return fmt.Errorf("open %s: %w", redact(*to), err)
		}
		defer dst.Close()
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
		fmt.Fprintf(c.stdout, "copied %s to %s (epoch %s); every table's count matches\n", path, redact(*to), dst.Epoch())
		return nil
	}
}

// redact hides a URL's password.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}
