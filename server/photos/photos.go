// Package photos processes uploaded evidence photos off the request path,
// in a bounded pool of workers that resumes unfinished work after a
// restart: it reads EXIF (time, GPS, make/model, software, orientation),
// makes a 256 px thumbnail and a 1280 px preview with orientation applied,
// computes a perceptual hash, and raises the evidence flags reviewers see
// (a reuse flags the later photo and notes the earlier one, see reuse.go),
// decoding within one memory budget for all workers.
package photos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Config tunes processing and the flags.
type Config struct {
	Workers int // concurrent photos (each decodes one image at a time)
	// Limits refuses images with more pixels than this, or whose decode
	// takes more than Limits.MaxBytes; MaxBytes is also the memory all
	// workers' decodes share (see Processor).
	Limits imageproc.Limits
	// TimeSlack is how far EXIF time may differ from the phone's capture
	// time, and a photo from its visit, before time_mismatch is raised.
	TimeSlack time.Duration
	// Thumbnail and Preview are the derivative sizes (longest side, px).
	Thumbnail, Preview int
	// LinkLock, if set, is a lock every server shares, held (besides the
	// process's own) while a photo's reuse flags are computed and written,
	// so that of two photos processed at once on two servers the second
	// sees the first. It returns the function that releases it.
	LinkLock func(ctx context.Context) (unlock func(), err error)
	// Devices, if set, is the devices' requests in flight: a photo's
	// processing then gives way to them. It waits until no device request
	// has been in flight for Quiet, but no longer than GiveWay after the
	// photo was uploaded, so that traffic that never pauses delays photos
	// by GiveWay and no more (then they are processed as fast as ever), a
	// photo left from before a restart does not wait, and someone waiting
	// in WaitIdle is not kept waiting.
	Devices        *server.Activity
	Quiet, GiveWay time.Duration
}

// DefaultConfig is the production configuration.
func DefaultConfig() Config {
	return Config{Workers: 2, Limits: imageproc.Limits{MaxPixels: 100e6, MaxSide: 20000, MaxBytes: imageproc.DefaultMaxBytes}, TimeSlack: 30 * time.Minute,
		Thumbnail: 256, Preview: 1280, Quiet: time.Second, GiveWay: 30 * time.Second}
}

// Processor is the worker pool.
//
// Decoding is bounded by memory, not only by the number of workers: the
// pixels of one photo take from 1.5 bytes each (a camera JPEG) to 8 (a
// 16-bit PNG), so two workers could otherwise hold 1.6 GB for two small
// files. Every photo takes what its decode and derivatives need (read from
// its header, Info.MemoryNeed) from one budget of Limits.MaxBytes before it
// is decoded, and waits while other photos hold it. A photo that needs more
// than the whole budget by its decode alone is refused at upload
// (CheckOriginal) and flagged unreadable if it is stored anyway; one whose
// derivatives take it over the budget runs alone.
type Processor struct {
	cfg    Config
	store  server.PhotoStore
	syncer *server.Syncer
	blobs  server.BlobStore
	log    *slog.Logger
	budget *imageproc.Budget
	// linkMu serializes computing and writing reuse flags and notes, so
	// that of two photos processed at once the second sees the first
	// (across servers, with Config.LinkLock too: lockLink).
	linkMu sync.Mutex

	mu    sync.Mutex
	cond  *sync.Cond
	queue []string
	// later are the photos no one waits for (EnqueueLater), taken when
	// queue is empty.
	later  []string
	queued map[string]bool
	// failures counts each photo's failed attempts in a row (retryDelay).
	failures map[string]int
	// missing counts the attempts that found a photo's bytes missing
	// since missingSaid, when the log last said so (missingEvery).
	missing     int
	missingSaid time.Time
	running     int
	started     bool
	stopped     bool
	wg          sync.WaitGroup
	// hurry is closed while someone waits in WaitIdle (waiters counts
	// them), and stop when Start's context ends: photos giving way to
	// devices then go on at once.
	hurry   chan struct{}
	waiters int
	stop    <-chan struct{}
}

// New returns a processor; Start runs it.
func New(cfg Config, st server.PhotoStore, syncer *server.Syncer, blobs server.BlobStore, log *slog.Logger) *Processor {
	cfg.Limits = cfg.Limits.WithDefaults()
	p := &Processor{cfg: cfg, store: st, syncer: syncer, blobs: blobs, log: log, queued: map[string]bool{}, failures: map[string]int{},
		budget: imageproc.NewBudget(cfg.Limits.MaxBytes)}
	p.cond = sync.NewCond(&p.mu)
	p.hurry = make(chan struct{})
	return p
}

// Limits returns the image limits photos are processed with, for
// CheckOriginal to refuse at upload what processing could not decode.
func (p *Processor) Limits() imageproc.Limits { return p.cfg.Limits }

// DecodeInUse returns the decode memory taken now.
func (p *Processor) DecodeInUse() int64 { return p.budget.InUse() }

// DecodeStats returns the decode budget's size, the most of it decodes
// ever took at once, and how many decodes waited for it (Budget.Stats).
func (p *Processor) DecodeStats() (size, peak, waits int64) {
	peak, waits = p.budget.Stats()
	return p.budget.Size(), peak, waits
}

// Start queues the photos left unprocessed by an earlier run and starts the
// workers, which stop when ctx ends (finishing the photo in hand). Beside
// them it corrects what earlier versions left (CorrectEarlier).
func (p *Processor) Start(ctx context.Context) error {
	ids, err := p.store.UnprocessedPhotos(ctx)
	if err != nil {
		return fmt.Errorf("find unprocessed photos: %w", err)
	}
	p.EnqueueLater(ids)
	p.CorrectEarlier(ctx) // counted running before WaitIdle can see the start
	p.mu.Lock()
	p.started = true
	p.stop = ctx.Done()
	p.cond.Broadcast()
	p.mu.Unlock()
	for i := 0; i < max(p.cfg.Workers, 1); i++ {
		p.wg.Add(1)
		go p.work(ctx)
	}
	go func() {
		<-ctx.Done()
		p.mu.Lock()
		p.stopped = true
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	return nil
}

// CorrectEarlier corrects, in the background, the reuse flags an earlier
// version left (relinkLegacy) and indexes the photos processed before
// fingerprints (indexLegacy), until ctx ends; the next start goes on
// where it stopped. Start runs it; a server whose photos are processed
// by another queue (jobs.River, with PostgreSQL) runs it itself. Each
// photo is corrected under the link lock, so several servers starting at
// once take turns. WaitIdle and Stop wait for it.
func (p *Processor) CorrectEarlier(ctx context.Context) {
	p.mu.Lock()
	p.running++
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.relinkLegacy(context.WithoutCancel(ctx)); err != nil {
			p.log.Error("correct reuse flags", "err", err)
		}
		if err := p.indexLegacy(ctx); err != nil {
			p.log.Error("index the hashes of earlier photos", "err", err)
		}
		p.mu.Lock()
		p.running--
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
}

// Stop waits for the workers, and CorrectEarlier, to finish after their
// context ended.
func (p *Processor) Stop() { p.wg.Wait() }

// Enqueue asks for photos to be (re)processed. It never blocks; a photo
// already waiting is not queued twice. The queue holds only ids.
func (p *Processor) Enqueue(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if p.queued[id] {
			if i := slices.Index(p.later, id); i >= 0 {
				// Waited for now: it goes before those no one waits for.
				p.later = slices.Delete(p.later, i, i+1)
				delete(p.queued, id)
			}
		}
		if !p.queued[id] {
			p.queued[id] = true
			p.queue = append(p.queue, id)
		}
	}
	p.cond.Broadcast()
}

// EnqueueLater asks for photos no one is waiting for to be processed —
// the demo's, those found unprocessed at start — after every photo
// Enqueue asks for: an inspector's photo is not held behind a backlog
// (ops probe: minutes behind the demo's 1,300).
func (p *Processor) EnqueueLater(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if !p.queued[id] {
			p.queued[id] = true
			p.later = append(p.later, id)
		}
	}
	p.cond.Broadcast()
}

// take removes and returns the next photo to process, and false when none
// waits: Enqueue's first, in order, then EnqueueLater's. p.mu is held.
func (p *Processor) take() (string, bool) {
	lane := &p.queue
	if len(p.queue) == 0 {
		lane = &p.later
	}
	if len(*lane) == 0 {
		return "", false
	}
	id := (*lane)[0]
	*lane = (*lane)[1:]
	delete(p.queued, id)
	return id, true
}

// waiting is the number of photos queued. p.mu is held.
func (p *Processor) waiting() int { return len(p.queue) + len(p.later) }

// missingEvery is how often the log says that photos' bytes are missing
// from the photo store (errBytesMissing), however many.
const missingEvery = 10 * time.Minute

// retryDelay is how long a photo waits after its nth failed attempt in a
// row: 30 s, doubling, at most an hour.
func retryDelay(n int) time.Duration {
	return min(30*time.Second<<min(n-1, 8), time.Hour)
}

// WaitIdle blocks until the processor has started and no photo is waiting
// or being processed.
func (p *Processor) WaitIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiters++; p.waiters == 1 {
		close(p.hurry) // nothing gives way to devices while someone waits
	}
	defer func() {
		if p.waiters--; p.waiters == 0 {
			p.hurry = make(chan struct{})
		}
	}()
	for (!p.started || p.waiting() > 0 || p.running > 0) && !p.stopped {
		p.cond.Wait()
	}
}

func (p *Processor) work(ctx context.Context) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for p.waiting() == 0 && !p.stopped {
			p.cond.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		id, _ := p.take()
		p.running++
		p.mu.Unlock()

		err := p.Process(context.WithoutCancel(ctx), id)
		p.mu.Lock()
		switch {
		case err == nil || errors.Is(err, errStopped):
			delete(p.failures, id)
		default:
			// A failure may pass (a full disk, a store briefly down): the
			// photo is tried again later, less often each time, until the
			// next start queues every unprocessed photo anyway.
			p.failures[id]++
			delay := retryDelay(p.failures[id])
			if errors.Is(err, errBytesMissing) {
				// A photo store not restored with its database: said once
				// a while for them all, not once per photo and attempt
				// (a restore without blobs/ logged 1,500 lines a round:
				// verification probe).
				p.missing++
				if time.Since(p.missingSaid) >= missingEvery {
					p.log.Error("photos marked uploaded whose bytes the photo store lacks wait for them: copy the photo store kept with the backup back (README, Operating)",
						"photos_since_last_said", p.missing, "example", id, "retry_in", delay)
					p.missing, p.missingSaid = 0, time.Now()
				} else {
					p.log.Debug("process photo", "photo", id, "err", err, "attempt", p.failures[id], "retry_in", delay)
				}
			} else {
				p.log.Error("process photo", "photo", id, "err", err, "attempt", p.failures[id], "retry_in", delay)
			}
			time.AfterFunc(delay, func() { p.Enqueue([]string{id}) })
		}
		p.running--
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// Process reads one photo's original and writes its derivatives, EXIF,
// hash, flags and notes, and updates the reuse flags and notes of the
// photos it matches. A photo whose bytes cannot be read as an image is
// marked processed with an "unreadable" flag saying why. A record not
// marked uploaded is left alone even if bytes with its hash are stored
// (for another record): what it would show — EXIF time and place, size —
// would be read from bytes it never sent.
//
// A photo processed before, whose derivatives are stored, is not read
// again: its flags are computed again from what was stored (reflag).
//
// While devices are syncing it first gives way to them (Config.Devices).
func (p *Processor) Process(ctx context.Context, id string) error {
	if done, err := p.reflag(ctx, id); done || err != nil {
		return err
	}
	rec, err := p.uploaded(ctx, id)
	if err != nil || rec == nil {
		return err
	}
	if waited, err := p.giveWay(ctx, rec); err != nil {
		return err
	} else if waited { // it may have changed meanwhile
		if rec, err = p.uploaded(ctx, id); err != nil || rec == nil {
			return err
		}
	}
	sum := rec.Text("sha256")
	blob, err := p.blobs.Open(ctx, sum, server.VariantOriginal)
	if server.ErrorCode(err) == syncproto.CodeNotFound {
		// Marked uploaded, so its bytes were stored — in a photo store
		// this server does not reach (servers sharing a database but not
		// --blobs), or not yet visible in it: an error, so that the photo
		// is tried again and the operator sees why it waits.
		return fmt.Errorf("%w: photo %s (sha256 %s)", errBytesMissing, id, sum)
	}
	if err != nil {
		return err
	}
	defer blob.Close()

	res := map[string]any{"processed_at": time.Now().UTC().Format(time.RFC3339Nano)}
	ev := evidence{rec: rec}
	// Only a picture that cannot be decoded is flagged unreadable (the
	// inspector is told to take it again): a failure of the store — its
	// original not read whole, a derivative not written (a full disk), the
	// server stopping — is an error, and the photo is tried again.
	orig := &watchedBlob{Blob: blob}
	info, err := imageproc.Inspect(orig, blob.Size(), p.cfg.Limits)
	switch {
	case err != nil && (orig.err != nil || ctx.Err() != nil):
		return fmt.Errorf("read photo %s: %w", id, errors.Join(orig.err, err))
	case err != nil:
		ev.unreadable = p.unreadableReason(rec.ID, err)
	default:
		ev.exif = info.EXIF
		res["width"], res["height"] = info.Width, info.Height
		if info.Derivable() {
			err := p.derive(ctx, orig, sum, info, &ev)
			switch {
			case err != nil && (orig.err != nil || ctx.Err() != nil || errors.As(err, new(storeError))):
				return fmt.Errorf("derive photo %s: %w", id, errors.Join(orig.err, err))
			case err != nil:
				ev.unreadable = p.unreadableReason(rec.ID, err)
			}
		}
	}
	if ev.unreadable != "" {
		// Nothing is read from a file that cannot be read whole: the time,
		// position and size its header declares may be of another picture
		// (a file cut short, spliced) — no time or position flag comes
		// from it, and it has no width or height (sync.md 10.7).
		ev.exif = imageproc.EXIF{}
		delete(res, "width")
		delete(res, "height")
		for _, f := range []string{"width", "height"} {
			if rec.Value(f) != nil {
				res[f] = nil // processed again, by a version that reads no more of it
			}
		}
	}
	if ev.hash != nil {
		res["phash"] = fmt.Sprintf("%016x", *ev.hash)
	} else if rec.Value("phash") != nil {
		res["phash"] = nil // processed again, by a version that finds it too uniform to hash
	}
	flags, err := p.flags(ctx, &ev)
	if err != nil {
		return err
	}
	res["exif"] = exifJSON(ev.exif)
	subject := server.ReuseSubject{Photo: rec, Hash: ev.hash}
	if subject.Inspection, err = server.PhotoInspection(ctx, p.store, rec); err != nil {
		return err
	}
	if ev.site != nil {
		res["site_id"] = ev.site.ID
		subject.Site = ev.site.ID
	}
	if ev.where != nil {
		res["lon_wgs84"], res["lat_wgs84"] = ev.where.Lon, ev.where.Lat
	}
	return p.link(ctx, subject, ev.fp, flags, res)
}

// uploaded returns the photo record id if it is live and uploaded, else
// nil.
func (p *Processor) uploaded(ctx context.Context, id string) (*server.StoredRecord, error) {
	rec, err := p.store.Get(ctx, syncproto.EntityPhoto, id)
	if err != nil || rec == nil || rec.State.IsDeleted() || !rec.Uploaded() {
		return nil, err
	}
	return rec, nil
}

// gaveWay, if set (by tests), is called as a photo begins to give way to
// devices (waiting true) and as it stops.
var gaveWay func(id string, waiting bool)

// errBytesMissing is Process's error for a photo marked uploaded whose
// bytes the photo store does not have.
var errBytesMissing = errors.New("the photo is marked uploaded but the photo store lacks its bytes")

// errStopped is Process's error for a photo left unprocessed because the
// processor stopped while it gave way to devices; the next start queues
// it again.
var errStopped = errors.New("photo processing stopped")

// giveWay holds rec back while devices are syncing (Config.Devices): until
// no device request has been in flight for Config.Quiet, at most until
// Config.GiveWay after it was uploaded (after now, if its upload's HLC is
// ahead of this clock), and not while someone waits in WaitIdle. It
// reports whether it waited.
func (p *Processor) giveWay(ctx context.Context, rec *server.StoredRecord) (bool, error) {
	d := p.cfg.Devices
	if d == nil || p.cfg.GiveWay <= 0 || d.Quiet() >= p.cfg.Quiet {
		return false, nil
	}
	now := time.Now()
	at := rec.State.Fields["uploaded"].HLC.Time()
	if at.After(now) {
		at = now
	}
	until := at.Add(p.cfg.GiveWay)
	if !now.Before(until) {
		return false, nil
	}
	p.mu.Lock()
	hurry, stop := p.hurry, p.stop
	p.mu.Unlock()
	if gaveWay != nil {
		gaveWay(rec.ID, true)
		defer gaveWay(rec.ID, false)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-hurry:
		case <-stop:
		case <-wctx.Done():
		}
		cancel()
	}()
	_ = d.GiveWay(wctx, p.cfg.Quiet, until)
	if err := ctx.Err(); err != nil {
		return true, err
	}
	select {
	case <-stop:
		return true, errStopped
	default:
		return true, nil
	}
}

// gcAfter is the decode memory above which a photo's garbage is collected
// before its budget is given back: otherwise the next decode allocates
// beside the last one's unreclaimed pixels, and the process holds twice
// the budget until the collector runs by itself.
const gcAfter = 32 << 20

// derive makes the preview from the original (the one full decode), then
// the thumbnail and the perceptual hash from the preview, holding the
// memory that takes from the decode budget.
func (p *Processor) derive(ctx context.Context, blob io.ReadSeeker, sum string, info *imageproc.Info, ev *evidence) error {
	// The preview is decoded once more, for the thumbnail and the hash:
	// 1.5 bytes a pixel, and small copies.
	need := info.MemoryNeed(p.cfg.Preview) + 4*int64(p.cfg.Preview)*int64(p.cfg.Preview)
	release, err := p.budget.Acquire(ctx, need)
	if err != nil {
		return err
	}
	defer release()
	if need >= gcAfter {
		defer runtime.GC() // before release: deferred calls run last first
	}
	if _, err := blob.Seek(0, 0); err != nil {
		return err
	}
	preview, err := imageproc.Derive(blob, p.cfg.Limits, p.cfg.Preview, 85)
	if err != nil {
		return err
	}
	pv, err := imageproc.Decode(bytes.NewReader(preview), p.cfg.Limits)
	if err != nil {
		return err
	}
	thumb, err := pv.JPEG(p.cfg.Thumbnail, 80)
	if err != nil {
		return err
	}
	// A picture too uniform to hash (a covered lens, a blank wall) has no
	// fingerprint, hence no phash: it is compared by its bytes alone.
	if ev.fp = pv.Fingerprint(); len(ev.fp) > 0 {
		h := pv.DHash() // its phash, even where too flat to be matched by
		ev.hash = &h
	}
	if err := p.blobs.PutVariant(ctx, sum, server.VariantPreview, preview); err != nil {
		return storeError{err}
	}
	if err := p.blobs.PutVariant(ctx, sum, server.VariantThumbnail, thumb); err != nil {
		return storeError{err}
	}
	return nil
}

// storeError is derive's failure to write a derivative: the store's, not
// the picture's.
type storeError struct{ err error }

func (e storeError) Error() string { return "store derivative: " + e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

// watchedBlob is a photo's original that keeps the first error its store
// gave on a read (io.EOF aside): a decoder's failure after one is the
// store's, not the picture's.
type watchedBlob struct {
	server.Blob
	err error
}

func (b *watchedBlob) Read(p []byte) (int, error) {
	n, err := b.Blob.Read(p)
	b.note(err)
	return n, err
}

func (b *watchedBlob) ReadAt(p []byte, off int64) (int, error) {
	n, err := b.Blob.ReadAt(p, off)
	b.note(err)
	return n, err
}

func (b *watchedBlob) Seek(off int64, whence int) (int64, error) {
	n, err := b.Blob.Seek(off, whence)
	b.note(err)
	return n, err
}

func (b *watchedBlob) note(err error) {
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
}

func exifJSON(e imageproc.EXIF) map[string]any {
	out := map[string]any{"orientation": e.Orientation}
	if e.Time != nil {
		out["time"] = e.Time.In(server.ChinaTime).Format(time.RFC3339) // as every time the server writes
	}
	if e.GPS != nil {
		// To 1e-7 degree (about a centimetre): the degrees, minutes and
		// seconds of EXIF add up to 38.480000000000004 for 38°28′48″.
		out["lon"], out["lat"] = roundDegrees(e.GPS.Lon), roundDegrees(e.GPS.Lat)
	}
	if e.GPSAccuracyM != nil {
		out["gps_accuracy_m"] = *e.GPSAccuracyM
	}
	for k, v := range map[string]string{"make": e.Make, "model": e.Model, "software": e.Software} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// roundDegrees rounds a coordinate to 1e-7 degree.
func roundDegrees(v float64) float64 { return math.Round(v*1e7) / 1e7 }

// unreadableReason is why a stored photo could not be decoded, in
// Chinese: the reason of its unreadable flag, which offices and phones
// read. The decoder's own words go to the log.
func (p *Processor) unreadableReason(id string, err error) string {
	p.log.Info("photo unreadable", "photo", id, "err", err)
	return decodeProblem(err)
}
