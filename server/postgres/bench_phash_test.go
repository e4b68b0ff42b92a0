package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
)

// BenchmarkNearDuplicateLookup is the SQLite store's benchmark of the same
// name (server/sqlite/bench_phash_test.go) on PostgreSQL: a photo's
// fingerprint looked up among storetest.BenchPhotos processed photos'
// fingerprint rows (15 million), as the processor does for every photo.
// The planted copy of the query photo must be found.
//
// The database (fieldsync_phash_bench_v4_300000 on the test server) is
// generated once, by COPY and then the band indexes, and kept for the
// next runs; drop it to generate it again.
func BenchmarkNearDuplicateLookup(b *testing.B) {
	ctx := context.Background()
	query, planted := storetest.BenchQuery()
	dsn := benchHashDB(b, ctx, fmt.Sprintf("fieldsync_phash_bench_v4_%d", storetest.BenchPhotos), planted)
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	storetest.BenchNearDuplicateLookup(b, db, query)
}

// benchHashDB returns the URL of database name on the test server, made
// (migrated, filled with storetest.BenchPhotoHashes, indexed, analysed)
// if it does not exist.
func benchHashDB(b *testing.B, ctx context.Context, name string, planted imageproc.Fingerprint) string {
	b.Helper()
	admin, err := pgx.Connect(ctx, pgtest.Server())
	if err != nil {
		b.Skipf("no PostgreSQL at %s: %v", pgtest.Server(), err)
	}
	defer admin.Close(ctx)
	u, err := url.Parse(pgtest.Server())
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if exists {
		return u.String()
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	if err := fillHashDB(ctx, u.String(), planted); err != nil {
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		b.Fatal(err)
	}
	return u.String()
}

func fillHashDB(ctx context.Context, dsn string, planted imageproc.Fingerprint) error {
	db, err := postgres.Open(ctx, dsn) // the migrations
	if err != nil {
		return err
	}
	db.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var indexes []string // the band indexes, made again after the rows
	rows, err := conn.Query(ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = 'photo_hash' AND indexname LIKE 'photo_hash_%b_'`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return err
		}
		indexes = append(indexes, def)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(indexes) != 4*imageproc.NumBands {
		return fmt.Errorf("found %d band indexes of photo_hash, want %d", len(indexes), 4*imageproc.NumBands)
	}
	if _, err := conn.Exec(ctx, `DO $$ DECLARE i record; BEGIN
		FOR i IN SELECT indexname FROM pg_indexes WHERE tablename = 'photo_hash' AND indexname LIKE 'photo_hash_%b_' LOOP
			EXECUTE 'DROP INDEX ' || quote_ident(i.indexname);
		END LOOP; END $$`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO county (id, seq, created_at, updated_at, name) VALUES ('140902', 1, 0, 0, '忻府区')`); err != nil {
		return err
	}
	// COPY in chunks of photos, so that the 15 million rows are never all
	// in memory.
	var photos, hashes [][]any
	flush := func() error {
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"photo"},
			[]string{"id", "county", "seq", "created_at", "updated_at", "uploaded", "processed_at", "phash", "site_id"}, pgx.CopyFromRows(photos)); err != nil {
			return fmt.Errorf("copy photos: %w", err)
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"photo_hash"},
			[]string{"photo_id", "kind", "hash", "mirror", "b0", "b1", "b2"}, pgx.CopyFromRows(hashes)); err != nil {
			return fmt.Errorf("copy hashes: %w", err)
		}
		photos, hashes = photos[:0], hashes[:0]
		return nil
	}
	err = storetest.BenchPhotoHashes(storetest.BenchPhotos, planted, func(i int, id, phash string, rs []storetest.BenchHashRow) error {
		photos = append(photos, []any{id, "140902", int64(i + 1), int64(0), int64(0), true, "2026-11-30T00:00:00Z", phash, fmt.Sprintf("site%d", i%5000)})
		for _, r := range rs {
			hashes = append(hashes, []any{id, int32(r.Kind), r.Hash, r.Mirror, int32(r.Bands[0]), int32(r.Bands[1]), int32(r.Bands[2])})
		}
		if len(photos) == 10_000 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	for _, def := range indexes {
		if _, err := conn.Exec(ctx, def); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, `ANALYZE photo; ANALYZE photo_hash`)
	return err
}
