package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
	"github.com/xinzhou-eco/fieldsync/server/blobs3"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// checkCmd looks for damage nothing else notices until someone opens the
// photo, or restores a backup:
//
//	fieldsync check [--data DIR | --database URL] [--blobs s3://…] [--quick] [--repair]
//
// It runs SQLite's integrity check on the database (not PostgreSQL's: it
// says so), then, for every live photo record marked uploaded, checks that
// the photo store holds its original, of the recorded size and (unless
// --quick) whose bytes hash to its sha256, and, for a processed JPEG or
// PNG not flagged unreadable, its preview and thumbnail. Each photo found
// wrong is named with its inspection, its sha256 and what is wrong, and
// the command fails (exit 1) if any is.
//
// It only reads, and takes no lock: it runs beside a server as backup
// does (a read of the database's last commit). --repair makes the
// missing derivatives again, by the photo's processing
// (photos.Processor.Process), from an original whose bytes check out;
// a photo it repaired does not fail the command.
func checkCmd(c *command) {
	c.uses = []string{"blobs", "photo-decode-memory"}
	quick := c.fs.Bool("quick", false, "check that each original is there, with its recorded size, without reading it whole to check its SHA-256")
	repair := c.fs.Bool("repair", false, "make again the previews and thumbnails found missing, from originals whose bytes check out (writes to the store)")
	c.run = func(ctx context.Context) error {
		if _, err := c.findStore(ctx); err != nil {
			return err
		}
		k := &checker{out: c.stdout, quick: *quick}
		if !k.database(ctx, c.cfg) {
			fmt.Fprintln(c.stdout, "photos not checked: their records are in the damaged database (restore the last good backup, then check again)")
			return errors.New("the database is damaged")
		}
		if *repair {
			return c.withStore(ctx, func(a *app.App) error {
				k.repair = a.Photos.Process
				return k.finish(k.photos(ctx, a.DB, a.Blobs))
			})
		}
		// Read-only: the database opened as audit verify opens it (no
		// seeds, no keys), the photo store without making anything in it.
		db, err := app.OpenDatabase(ctx, *c.cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		blobs, err := c.photoStore(ctx, k)
		if err != nil {
			return err
		}
		return k.finish(k.photos(ctx, db, blobs))
	}
}

// photoStore opens the configured photo store to read it: the S3 store
// --blobs names, else the data directory's blobs/, which is not made if
// it is missing (a volume not mounted): that is said, and every original
// then reads as missing.
func (c *command) photoStore(ctx context.Context, k *checker) (server.BlobStore, error) {
	if c.cfg.Blobs != "" {
		b, err := blobs3.Open(ctx, c.cfg.Blobs)
		if err != nil {
			return nil, fmt.Errorf("open photo store: %w", err)
		}
		return b, nil
	}
	dir := filepath.Join(c.cfg.DataDir, "blobs")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(k.out, "photo store %s: no such directory (a volume not mounted? a restore without its photos?)\n", dir)
	}
	return blobfs.Existing(dir), nil
}

// checker is one run of check: what it found, as it prints it.
type checker struct {
	out   io.Writer
	quick bool
	// repair, if set, processes a photo again (--repair).
	repair func(ctx context.Context, id string) error
	// originals is what was found of each sha256's original (photos may
	// share bytes: read once).
	originals map[string]*original
	// db says how the database was found, for the summary.
	db string
	// counts for the summary.
	photosSeen, bad, fixed int
}

// original is what the photo store holds as the original of a sha256.
type original struct {
	missing bool
	err     error // could not be read
	size    int64
	sum     string // the SHA-256 of its bytes; "" if not read (--quick)
}

// database checks the SQLite database's integrity, and reports whether it
// is sound (or PostgreSQL's, which is not checked here).
func (k *checker) database(ctx context.Context, cfg *app.Config) bool {
	if cfg.Database != "" {
		fmt.Fprintln(k.out, "database: PostgreSQL, whose integrity is not checked here (use PostgreSQL's own tools, such as pg_amcheck)")
		k.db = "database not checked (PostgreSQL)"
		return true
	}
	path := cfg.DBPath()
	problems, err := sqlite.CheckIntegrity(ctx, path, 20)
	switch {
	case err != nil:
		fmt.Fprintf(k.out, "DAMAGED database %s: it cannot be read to check it: %v\n", path, err)
	case len(problems) > 0:
		fmt.Fprintf(k.out, "DAMAGED database %s: SQLite's integrity check finds:\n", path)
		for _, p := range problems {
			fmt.Fprintf(k.out, "  %s\n", p)
		}
	default:
		fmt.Fprintf(k.out, "database %s: integrity ok\n", path)
		k.db = "database ok"
		return true
	}
	return false
}

// photos checks every live photo record marked uploaded, reading them
// page by page from the change feed (every store has it).
func (k *checker) photos(ctx context.Context, st server.Store, blobs server.BlobStore) error {
	k.originals = map[string]*original{}
	// A record changed while the check runs (one --repair processes)
	// comes again later in the feed: each is checked once.
	seen := map[string]bool{}
	for after := int64(0); ; {
		recs, more, err := st.Changes(ctx, server.Scope{All: true}, after, 500)
		if err != nil {
			return fmt.Errorf("read the photo records: %w", err)
		}
		for _, rec := range recs {
			after = max(after, rec.Seq)
			if rec.Entity.Name != syncproto.EntityPhoto || seen[rec.ID] || rec.State.IsDeleted() || !rec.Uploaded() {
				continue
			}
			seen[rec.ID] = true
			if err := k.photo(ctx, st, blobs, rec); err != nil {
				return err
			}
		}
		if !more || len(recs) == 0 {
			return nil
		}
	}
}

// photo checks one photo record and prints what is wrong with it.
func (k *checker) photo(ctx context.Context, st server.Store, blobs server.BlobStore, rec *server.StoredRecord) error {
	k.photosSeen++
	sum := rec.Text("sha256")
	o, err := k.original(ctx, blobs, sum, !k.quick)
	if err != nil {
		return err
	}
	var problems []string // of the original first
	switch {
	case o.missing:
		problems = append(problems, "original missing from the photo store")
	case o.err != nil:
		problems = append(problems, fmt.Sprintf("original cannot be read: %v", o.err))
	default:
		if want, ok := sizeBytes(rec); ok && want != o.size {
			problems = append(problems, fmt.Sprintf("original is %d bytes, the record says %d", o.size, want))
		}
		if o.sum != "" && o.sum != sum {
			problems = append(problems, fmt.Sprintf("original's bytes do not match its sha256 (they hash to %s)", o.sum))
		}
	}
	sound := len(problems) == 0
	missing, err := missingDerivatives(ctx, blobs, rec)
	if err != nil {
		problems = append(problems, fmt.Sprintf("derivatives cannot be looked for: %v", err))
	}
	if len(problems)+len(missing) == 0 {
		return nil
	}
	// Deleted (or its upload undone) since the feed was read: not ours.
	if now, err := st.Get(ctx, syncproto.EntityPhoto, rec.ID); err != nil {
		return err
	} else if now == nil || now.State.IsDeleted() || !now.Uploaded() {
		return nil
	}
	for _, v := range missing {
		problems = append(problems, v+" missing")
	}
	fixed := false
	if len(missing) > 0 && k.repair != nil {
		if fixed, err = k.rederive(ctx, blobs, rec, sound, &problems); err != nil {
			return err
		}
	}
	label := "BAD  "
	if fixed {
		label = "FIXED"
		k.fixed++
	} else {
		k.bad++
	}
	insp := rec.Text("inspection_id")
	if insp == "" {
		insp = "-"
		if vc := rec.Text("vehicle_check_id"); vc != "" {
			insp = "- (vehicle check " + vc + ")"
		}
	}
	fmt.Fprintf(k.out, "%s photo %s inspection %s sha256 %s: %s\n", label, rec.ID, insp, sum, strings.Join(problems, "; "))
	return nil
}

// rederive makes rec's missing derivatives again (--repair), from an
// original known to be the photo's own bytes (read whole even with
// --quick: the derivatives are what reviewers look at). It notes the
// outcome in problems and reports whether the photo is whole again.
func (k *checker) rederive(ctx context.Context, blobs server.BlobStore, rec *server.StoredRecord, sound bool, problems *[]string) (bool, error) {
	sum := rec.Text("sha256")
	o, err := k.original(ctx, blobs, sum, true)
	if err != nil {
		return false, err
	}
	if !sound || o.missing || o.err != nil || o.sum != sum {
		*problems = append(*problems, "not made again: the original is not the photo's own bytes")
		return false, nil
	}
	if err := k.repair(ctx, rec.ID); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		*problems = append(*problems, fmt.Sprintf("not made again: %v", err))
		return false, nil
	}
	switch still, err := missingDerivatives(ctx, blobs, rec); {
	case err != nil:
		*problems = append(*problems, fmt.Sprintf("made again, but cannot be looked for: %v", err))
		return false, nil
	case len(still) > 0:
		*problems = append(*problems, fmt.Sprintf("not made again (%s still missing: processing left it so, see the log)", strings.Join(still, ", ")))
		return false, nil
	}
	*problems = append(*problems, "made again from the original")
	return true, nil
}

// original returns what the photo store holds as sum's original, read
// whole to hash it if hash is set (once per sum).
func (k *checker) original(ctx context.Context, blobs server.BlobStore, sum string, hash bool) (*original, error) {
	if o := k.originals[sum]; o != nil && (o.sum != "" || !hash || o.missing || o.err != nil) {
		return o, nil
	}
	o := &original{}
	k.originals[sum] = o
	b, err := blobs.Open(ctx, sum, server.VariantOriginal)
	switch {
	case server.ErrorCode(err) == syncproto.CodeNotFound:
		o.missing = true
		return o, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		o.err = err
		return o, nil
	}
	defer b.Close()
	o.size = b.Size()
	if !hash {
		return o, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, b); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		o.err = err
		return o, nil
	}
	o.sum = hex.EncodeToString(h.Sum(nil))
	return o, nil
}

// missingDerivatives names the derivatives of rec the photo store lacks,
// of a photo processed into them: a JPEG or PNG (server.HasDerivatives)
// whose processing finished without finding it unreadable.
func missingDerivatives(ctx context.Context, blobs server.BlobStore, rec *server.StoredRecord) ([]string, error) {
	if !isSet(rec.Value("processed_at")) || rec.Unreadable() || !server.HasDerivatives(rec.Text("content_type")) {
		return nil, nil
	}
	var missing []string
	for _, v := range []string{server.VariantPreview, server.VariantThumbnail} {
		has, err := blobs.Has(ctx, rec.Text("sha256"), v)
		if err != nil {
			return missing, err
		}
		if !has {
			missing = append(missing, v)
		}
	}
	return missing, nil
}

// isSet reports whether a field's value is there and not null.
func isSet(v json.RawMessage) bool { return len(v) > 0 && string(v) != "null" }

// sizeBytes is a photo record's size_bytes, if it has one.
func sizeBytes(rec *server.StoredRecord) (int64, bool) {
	var n int64
	if v := rec.Value("size_bytes"); !isSet(v) || json.Unmarshal(v, &n) != nil {
		return 0, false
	}
	return n, true
}

// finish prints the summary line, and fails if anything is wrong still.
func (k *checker) finish(err error) error {
	if err != nil {
		return err
	}
	how := "originals read whole and their SHA-256 checked"
	if k.quick {
		how = "originals' presence and size checked (--quick)"
	}
	fmt.Fprintf(k.out, "%s; %d photos marked uploaded checked, %s; %d bad, %d repaired\n", k.db, k.photosSeen, how, k.bad, k.fixed)
	if k.bad > 0 {
		return fmt.Errorf("%d bad photo(s) (listed above)", k.bad)
	}
	return nil
}
