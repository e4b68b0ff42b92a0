// Package photos processes uploaded evidence photos off the request path,
// in a bounded pool of workers that resumes unfinished work after a
// restart: it reads EXIF (time, GPS, make/model, software, orientation),
// makes a 256 px thumbnail and a 1280 px preview with orientation applied,
// computes a perceptual hash, and raises the evidence flags reviewers see.
package photos

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Store is what processing reads.
type Store interface {
	Get(ctx context.Context, entity, id string) (*server.StoredRecord, error)
	Find(ctx context.Context, entity, field, value string) ([]*server.StoredRecord, error)
	UnprocessedPhotos(ctx context.Context) ([]string, error)
	PhotoHashes(ctx context.Context) ([]server.PhotoHash, error)
}

// Config tunes processing and the flags.
type Config struct {
	Workers int              // concurrent photos (each decodes one image at a time)
	Limits  imageproc.Limits // refuse images with more pixels than this
	// TimeSlack is how far EXIF time may differ from the phone's capture
	// time, and a photo from its visit, before time_mismatch is raised.
	TimeSlack time.Duration
	// NearDuplicate is the largest dHash distance counted as the same
	// picture.
	NearDuplicate int
	// Thumbnail and Preview are the derivative sizes (longest side, px).
	Thumbnail, Preview int
}

// DefaultConfig is the production configuration.
func DefaultConfig() Config {
	return Config{Workers: 2, Limits: imageproc.Limits{MaxPixels: 100e6, MaxSide: 20000}, TimeSlack: 30 * time.Minute,
		NearDuplicate: imageproc.NearDuplicateDistance, Thumbnail: 256, Preview: 1280}
}

// Processor is the worker pool.
type Processor struct {
	cfg    Config
	store  Store
	syncer *server.Syncer
	blobs  server.BlobStore
	log    *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []string
	queued  map[string]bool
	running int
	started bool
	stopped bool
	wg      sync.WaitGroup
}

// New returns a processor; Start runs it.
func New(cfg Config, st Store, syncer *server.Syncer, blobs server.BlobStore, log *slog.Logger) *Processor {
	p := &Processor{cfg: cfg, store: st, syncer: syncer, blobs: blobs, log: log, queued: map[string]bool{}}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// Start queues the photos left unprocessed by an earlier run and starts the
// workers, which stop when ctx ends (finishing the photo in hand).
func (p *Processor) Start(ctx context.Context) error {
	ids, err := p.store.UnprocessedPhotos(ctx)
	if err != nil {
		return fmt.Errorf("find unprocessed photos: %w", err)
	}
	p.Enqueue(ids)
	p.mu.Lock()
	p.started = true
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

// Stop waits for the workers to finish after Start's context ended.
func (p *Processor) Stop() { p.wg.Wait() }

// Enqueue asks for photos to be (re)processed. It never blocks; a photo
// already waiting is not queued twice. The queue holds only ids.
func (p *Processor) Enqueue(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if !p.queued[id] {
			p.queued[id] = true
			p.queue = append(p.queue, id)
		}
	}
	p.cond.Broadcast()
}

// WaitIdle blocks until the processor has started and no photo is waiting
// or being processed.
func (p *Processor) WaitIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for (!p.started || len(p.queue) > 0 || p.running > 0) && !p.stopped {
		p.cond.Wait()
	}
}

func (p *Processor) work(ctx context.Context) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.stopped {
			p.cond.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		id := p.queue[0]
		p.queue = p.queue[1:]
		delete(p.queued, id)
		p.running++
		p.mu.Unlock()

		if err := p.Process(context.WithoutCancel(ctx), id); err != nil {
			p.log.Error("process photo", "photo", id, "err", err)
		}

		p.mu.Lock()
		p.running--
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// Process reads one photo's original and writes its derivatives, EXIF,
// hash and flags. A photo whose bytes cannot be read as an image is marked
// processed with an "unreadable" flag saying why. A record not marked
// uploaded is left alone even if bytes with its hash are stored (for
// another record): what it would show — EXIF time and place, size — would
// be read from bytes it never sent.
func (p *Processor) Process(ctx context.Context, id string) error {
	rec, err := p.store.Get(ctx, syncproto.EntityPhoto, id)
	if err != nil || rec == nil || rec.State.IsDeleted() || !rec.Uploaded() {
		return err
	}
	sum := rec.Text("sha256")
	blob, err := p.blobs.Open(ctx, sum, server.VariantOriginal)
	if server.ErrorCode(err) == syncproto.CodeNotFound {
		return nil // not uploaded yet
	}
	if err != nil {
		return err
	}
	defer blob.Close()

	res := map[string]any{"processed_at": time.Now().UTC().Format(time.RFC3339Nano)}
	ev := evidence{rec: rec}
	info, err := imageproc.Inspect(blob, blob.Size(), p.cfg.Limits)
	if err != nil {
		ev.unreadable = err.Error()
	} else {
		ev.exif = info.EXIF
		res["width"], res["height"] = info.Width, info.Height
		if info.Format != "heic" {
			if err := p.derive(ctx, blob, sum, &ev); err != nil {
				ev.unreadable = err.Error()
			}
		}
	}
	if ev.hash != nil {
		res["phash"] = fmt.Sprintf("%016x", *ev.hash)
	}
	flags, others, err := p.flags(ctx, &ev)
	if err != nil {
		return err
	}
	res["flags"] = flags
	res["exif"] = exifJSON(ev.exif)
	if ev.site != nil {
		res["site_id"] = ev.site.ID
	}
	if ev.where != nil {
		res["lon_wgs84"], res["lat_wgs84"] = ev.where.Lon, ev.where.Lat
	}
	if err := p.syncer.SetServerFields(ctx, syncproto.EntityPhoto, id, res); err != nil {
		return err
	}
	p.Enqueue(others) // photos that should now carry a duplicate flag too
	return nil
}

// derive makes the preview from the original (the one full decode), then
// the thumbnail and the perceptual hash from the preview.
func (p *Processor) derive(ctx context.Context, blob server.Blob, sum string, ev *evidence) error {
	if _, err := blob.Seek(0, 0); err != nil {
		return err
	}
	preview, err := imageproc.Derive(blob, p.cfg.Limits, p.cfg.Preview, 85)
	if err != nil {
		return err
	}
	thumb, err := imageproc.Derive(bytes.NewReader(preview), p.cfg.Limits, p.cfg.Thumbnail, 80)
	if err != nil {
		return err
	}
	h, err := imageproc.DHashOf(bytes.NewReader(preview), p.cfg.Limits)
	if err != nil {
		return err
	}
	ev.hash = &h
	if err := p.blobs.PutVariant(ctx, sum, server.VariantPreview, preview); err != nil {
		return err
	}
	return p.blobs.PutVariant(ctx, sum, server.VariantThumbnail, thumb)
}

func exifJSON(e imageproc.EXIF) map[string]any {
	out := map[string]any{"orientation": e.Orientation}
	if e.Time != nil {
		out["time"] = e.Time.Format(time.RFC3339)
	}
	if e.GPS != nil {
		out["lon"], out["lat"] = e.GPS.Lon, e.GPS.Lat
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
