package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// The raw baseline's table: the records' columns, a text primary key and the
// (county, seq) index a pull reads by.
const (
	rawSchema = `CREATE TABLE vehicle_check(id TEXT PRIMARY KEY, county TEXT NOT NULL,
 checkpoint TEXT NOT NULL, plate TEXT NOT NULL, emission_stage TEXT NOT NULL, fuel TEXT NOT NULL,
 obd_mil INTEGER NOT NULL, aftertreatment TEXT NOT NULL, urea_level_pct REAL NOT NULL,
 checked_at TEXT NOT NULL, note TEXT NOT NULL, updated_hlc INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX vehicle_check_county_seq ON vehicle_check(county, seq);`
	rawCols   = `id,county,checkpoint,plate,emission_stage,fuel,obd_mil,aftertreatment,urea_level_pct,checked_at,note,updated_hlc,seq`
	rawInsert = `INSERT INTO vehicle_check(` + rawCols + `) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)`
	rawUpsert = rawInsert + ` ON CONFLICT(id) DO UPDATE SET county=excluded.county,
 checkpoint=excluded.checkpoint, plate=excluded.plate, emission_stage=excluded.emission_stage,
 fuel=excluded.fuel, obd_mil=excluded.obd_mil, aftertreatment=excluded.aftertreatment,
 urea_level_pct=excluded.urea_level_pct, checked_at=excluded.checked_at, note=excluded.note,
 updated_hlc=excluded.updated_hlc, seq=excluded.seq
 WHERE excluded.updated_hlc > vehicle_check.updated_hlc`
	rawSelect = `SELECT ` + rawCols + ` FROM vehicle_check WHERE county=? ORDER BY seq`
)

// rawResult is one round of the raw SQLite baseline.
type rawResult struct {
	InsertRowsS float64 // INSERT of the n new rows
	UpsertRowsS float64 // UPSERT of all n, every one newer (rewritten)
	ReadRowsS   float64 // SELECT of the county slice by seq, each row JSON-encoded
	ReadRows    int
	ReadBytes   int64 // the JSON the read produced
	SQLite      string
}

// runRaw writes the records into a fresh database file under dir with
// mattn/go-sqlite3 (WAL, synchronous=NORMAL, batch rows per transaction),
// rewrites them all, and reads the county's slice back as JSON.
func runRaw(ctx context.Context, dir string, recs []record, batch int) (*rawResult, error) {
	path := filepath.Join(dir, "raw.db")
	defer func() {
		for _, suf := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suf)
		}
	}()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var jm string
	var syncMode int
	res := &rawResult{}
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&jm); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncMode); err != nil {
		return nil, err
	}
	if jm != "wal" || syncMode != 1 {
		return nil, fmt.Errorf("raw sqlite: journal_mode=%s synchronous=%d, want wal and 1 (NORMAL)", jm, syncMode)
	}
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&res.SQLite); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, rawSchema); err != nil {
		return nil, err
	}
	n := int64(len(recs))
	d, changed, err := rawWrite(ctx, db, rawInsert, recs, batch, false)
	if err != nil {
		return nil, fmt.Errorf("raw insert: %w", err)
	}
	if changed != n {
		return nil, fmt.Errorf("raw insert changed %d rows, want %d", changed, n)
	}
	res.InsertRowsS = float64(n) / d.Seconds()
	d, changed, err = rawWrite(ctx, db, rawUpsert, recs, batch, true)
	if err != nil {
		return nil, fmt.Errorf("raw upsert: %w", err)
	}
	if changed != n {
		return nil, fmt.Errorf("raw upsert changed %d rows, want %d", changed, n)
	}
	res.UpsertRowsS = float64(n) / d.Seconds()
	d, rows, nbytes, err := rawRead(ctx, db, recs[0].County)
	if err != nil {
		return nil, fmt.Errorf("raw read: %w", err)
	}
	if int64(rows) != n {
		return nil, fmt.Errorf("raw read returned %d rows, want %d", rows, n)
	}
	res.ReadRowsS = float64(rows) / d.Seconds()
	res.ReadRows, res.ReadBytes = rows, nbytes
	return res, nil
}

// rawWrite runs q for every record, batch rows per transaction, with one
// prepared statement; rewrite writes the rewritten values with a newer HLC
// and a new seq. It returns the time taken and the rows changed.
func rawWrite(ctx context.Context, db *sql.DB, q string, recs []record, batch int, rewrite bool) (time.Duration, int64, error) {
	stmt, err := db.PrepareContext(ctx, q)
	if err != nil {
		return 0, 0, err
	}
	defer stmt.Close()
	n := int64(len(recs))
	var changed int64
	start := time.Now()
	for i := 0; i < len(recs); i += batch {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, 0, err
		}
		s := tx.StmtContext(ctx, stmt)
		for j := i; j < min(i+batch, len(recs)); j++ {
			r, hlc, seq := recs[j], int64(j+1), int64(j+1)
			if rewrite {
				r, hlc, seq = r.rewritten(), hlc+n, seq+n
			}
			res, err := s.ExecContext(ctx, r.ID, r.County, r.Checkpoint, r.Plate, r.EmissionStage, r.Fuel,
				r.OBDMIL, r.Aftertreat, r.UreaLevelPct, r.CheckedAt, r.Note, hlc, seq)
			if err != nil {
				tx.Rollback()
				return 0, 0, err
			}
			c, _ := res.RowsAffected()
			changed += c
		}
		if err := tx.Commit(); err != nil {
			return 0, 0, err
		}
	}
	return time.Since(start), changed, nil
}

// rawRead selects the county's rows in seq order and JSON-encodes each one,
// as a server answering a pull would at the least.
func rawRead(ctx context.Context, db *sql.DB, county string) (time.Duration, int, int64, error) {
	start := time.Now()
	rs, err := db.QueryContext(ctx, rawSelect, county)
	if err != nil {
		return 0, 0, 0, err
	}
	defer rs.Close()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	var nbytes int64
	rows := 0
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.ID, &r.County, &r.Checkpoint, &r.Plate, &r.EmissionStage, &r.Fuel,
			&r.OBDMIL, &r.Aftertreat, &r.UreaLevelPct, &r.CheckedAt, &r.Note, &r.UpdatedHLC, &r.Seq); err != nil {
			return 0, 0, 0, err
		}
		if err := enc.Encode(&r); err != nil {
			return 0, 0, 0, err
		}
		rows++
		if buf.Len() >= 1<<20 {
			nbytes += int64(buf.Len())
			buf.Reset()
		}
	}
	if err := rs.Err(); err != nil {
		return 0, 0, 0, err
	}
	nbytes += int64(buf.Len())
	return time.Since(start), rows, nbytes, nil
}
