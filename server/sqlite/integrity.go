package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// CheckIntegrity runs SQLite's integrity check (PRAGMA integrity_check) on
// the database file at path and returns what it finds wrong, at most limit
// lines of it; none for a sound database. It only queries the file
// (_query_only, as the store's readers do), so that a damaged database is
// not written to (as Open's migrations would be), and may run beside a
// server writing it: it reads the last commit, through the write-ahead
// log. (Not mode=ro: a read-only connection, the last to close, would
// leave the log and its index beside the file.) Damage that stops the check itself (SQLite's
// SQLITE_CORRUPT or SQLITE_NOTADB) is one more line of what is wrong; an
// error is a file it could not read at all.
func CheckIntegrity(ctx context.Context, path string, limit int) ([]string, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_query_only=true&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return check(ctx, db, "integrity_check", limit)
}

// QuickCheck runs SQLite's quick check (PRAGMA quick_check: the pages and
// records, not the indexes against their tables — a pass over the file)
// on the store's database, on a reader, and returns what it finds wrong,
// at most limit lines; none for a sound database.
func (db *DB) QuickCheck(ctx context.Context, limit int) ([]string, error) {
	return check(ctx, db.read, "quick_check", limit)
}

// check runs PRAGMA pragma(limit) and returns its lines but "ok"; damage
// that stops the check itself (SQLite's SQLITE_CORRUPT or SQLITE_NOTADB)
// is one more line.
func check(ctx context.Context, db *sql.DB, pragma string, limit int) ([]string, error) {
	var problems []string
	err := func() error {
		rows, err := db.QueryContext(ctx, fmt.Sprintf("PRAGMA %s(%d)", pragma, max(limit, 1)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			for _, line := range strings.Split(s, "\n") { // a row may hold several
				if line = strings.TrimSpace(line); line != "" && line != "ok" && line != "*** in database main ***" {
					problems = append(problems, line)
				}
			}
		}
		return rows.Err()
	}()
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return append(problems, "the check stops: "+err.Error()), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pragma, err)
	}
	return problems, nil
}

// DamagedError is Backup's error for a database whose copy fails SQLite's
// integrity check (nothing is left at the backup's path).
type DamagedError struct {
	Path     string   // the database copied
	Problems []string // CheckIntegrity's lines
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("the database %s is damaged (SQLite integrity check: %s)", e.Path, strings.Join(e.Problems, "; "))
}
