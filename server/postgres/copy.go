package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/server"
)

// TableCount is how many rows a table has in the source and the
// destination of a copy.
type TableCount struct {
	Table       string
	Source      int64
	Destination int64
}

// copyTables are the tables a copy moves besides the entity tables (which
// come first, in catalog order, references before the records that use
// them), in the order their foreign keys need.
var copyTables = []string{"users", "user_counties", "devices", "device_keys", "push_batches", "conflicts", "spent_refresh", "early_delete",
	"photo_upload", "blob_deleting", "console_sessions", "signing_keys", "login_attempts", "audit_log", "audit_seals", "photo_hash"}

// optionalTables are copied only if the source has them (a SQLite store
// from before they existed has none: counted as empty).
var optionalTables = map[string]bool{"device_keys": true, "signing_keys": true, "login_attempts": true, "audit_log": true, "audit_seals": true, "early_delete": true}

// notCopied are the source's tables a copy leaves, each for its reason:
// meta is set from the source's values (seq, HLC mark, epoch), the others
// are SQLite's own or the schema's. A source table in neither list stops
// the copy, so that a table added later is never left behind without a
// word. The photos' fingerprints (photo_hash) are copied: made again at
// start from the previews they would be coarser, and the photos
// processed before that found none to match (no near_duplicate flag).
var notCopied = map[string]bool{"meta": true, "schema_migrations": true, "sqlite_sequence": true}

// CopyFromSQLite copies the SQLite store src (a database/sql handle on a
// fieldsync.db migrated to the latest schema, which nothing writes
// meanwhile) into this database, which must hold no records and no users
// yet: every table row for row, in one transaction. The change feed's
// counter, the HLC high-water mark and the epoch are taken from src, so
// devices' cursors stay valid. It returns the row count of each table in
// both databases, and an error if any differs.
func (db *DB) CopyFromSQLite(ctx context.Context, src *sql.DB) ([]TableCount, error) {
	stx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read source: %w", err)
	}
	defer stx.Rollback()
	tables := make([]string, 0, len(server.Entities)+len(copyTables))
	for _, e := range server.Entities {
		tables = append(tables, e.Name)
	}
	tables = append(tables, copyTables...)

	var counts []TableCount
	var epoch string
	err = db.writeSQL(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, feedLock); err != nil {
			return err
		}
		for _, t := range tables {
			var n int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("destination table %s is not empty (%d rows): copy into an empty database", t, n)
			}
		}
		if err := everyTableKnown(ctx, stx, tables); err != nil {
			return err
		}
		have := map[string]bool{}
		for _, t := range tables {
			var n int
			if err := stx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, t).Scan(&n); err != nil {
				return err
			}
			if n == 0 && !optionalTables[t] {
				return fmt.Errorf("the source has no table %s", t)
			}
			if have[t] = n > 0; have[t] {
				if err := copyTable(ctx, stx, tx, t); err != nil {
					return fmt.Errorf("copy %s: %w", t, err)
				}
			}
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('conflicts', 'id'), coalesce(max(id), 0) + 1, false) FROM conflicts`); err != nil {
			return fmt.Errorf("advance conflict ids: %w", err)
		}
		var seq, high string
		if err := stx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seq'`).Scan(&seq); err != nil {
			return fmt.Errorf("source seq: %w", err)
		}
		if err := stx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'hlc_high'`).Scan(&high); err != nil {
			return fmt.Errorf("source hlc high-water mark: %w", err)
		}
		if err := stx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'epoch'`).Scan(&epoch); err != nil {
			return fmt.Errorf("source epoch: %w", err)
		}
		// The counter is never behind the records (as the SQLite store
		// makes sure at start-up).
		parts := make([]string, 0, len(server.Entities))
		for _, e := range server.Entities {
			parts = append(parts, "SELECT max(seq) AS s FROM "+e.Name)
		}
		if _, err := tx.Exec(ctx, `UPDATE meta SET value = greatest($1::bigint, coalesce((SELECT max(s) FROM (`+strings.Join(parts, " UNION ALL ")+`) m), 0))::text
			WHERE key = 'seq'`, seq); err != nil {
			return fmt.Errorf("set seq: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'hlc_high'`, high); err != nil {
			return fmt.Errorf("set hlc high-water mark: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'epoch'`, epoch); err != nil {
			return fmt.Errorf("set epoch: %w", err)
		}
		have["meta"] = true
		for _, t := range append(tables, "meta") {
			c := TableCount{Table: t} // a table absent from the source counts 0 there
			if have[t] {
				if err := stx.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&c.Source); err != nil {
					return fmt.Errorf("count source %s: %w", t, err)
				}
			}
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&c.Destination); err != nil {
				return fmt.Errorf("count destination %s: %w", t, err)
			}
			counts = append(counts, c)
		}
		for _, c := range counts {
			if c.Source != c.Destination {
				return fmt.Errorf("table %s: %d rows in the source, %d copied", c.Table, c.Source, c.Destination)
			}
		}
		return nil
	})
	if err != nil {
		return counts, err
	}
	db.epoch = epoch
	// The planner's statistics of the tables just filled: without them
	// (autovacuum off, or not yet come by) the fingerprint lookups of the
	// photos waiting to be processed ran at ten a minute.
	if _, err := db.pool.Exec(ctx, "ANALYZE"); err != nil {
		return counts, fmt.Errorf("analyze the copied tables: %w", err)
	}
	return counts, nil
}

// everyTableKnown refuses a source with a table the copy neither moves
// (tables) nor leaves for a reason (notCopied).
func everyTableKnown(ctx context.Context, src *sql.Tx, tables []string) error {
	rows, err := src.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if !notCopied[name] && !slices.Contains(tables, name) {
			return fmt.Errorf("the source has a table %s this version does not copy: copy with the fieldsync version that made it", name)
		}
	}
	return rows.Err()
}

// copyTable copies one table with COPY, converting SQLite's values to the
// destination's column types (0/1 to booleans, blobs to text).
func copyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, table string) error {
	rows, err := dst.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return err
	}
	var cols, types []string
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			rows.Close()
			return err
		}
		cols, types = append(cols, c), append(types, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	srcRows, err := src.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table)
	if err != nil {
		return err
	}
	defer srcRows.Close()
	_, err = dst.CopyFrom(ctx, pgx.Identifier{table}, cols, &sqliteRows{rows: srcRows, types: types})
	return err
}

// sqliteRows is a pgx.CopyFromSource over rows of the source database.
type sqliteRows struct {
	rows  *sql.Rows
	types []string // the destination's data types
}

func (r *sqliteRows) Next() bool { return r.rows.Next() }

func (r *sqliteRows) Values() ([]any, error) {
	vals := make([]any, len(r.types))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, v := range vals {
		vals[i] = convert(v, r.types[i])
	}
	return vals, nil
}

func (r *sqliteRows) Err() error { return r.rows.Err() }

// convert turns a value SQLite returned into one of the destination type.
func convert(v any, typ string) any {
	switch x := v.(type) {
	case []byte:
		if typ == "bytea" {
			return x
		}
		return string(x)
	case int64:
		switch typ {
		case "boolean":
			return x != 0
		case "double precision":
			return float64(x)
		case "text":
			return fmt.Sprint(x)
		}
	case float64:
		switch typ {
		case "bigint":
			return int64(x)
		case "text":
			return fmt.Sprint(x)
		}
	case string:
		if typ == "boolean" {
			return x == "1" || x == "true"
		}
	}
	return v
}
