package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// device is one simulated phone: its client, its slice as pulled so far
// (just what a visit needs) and its cursor.
type device struct {
	r      *run
	index  int
	user   string
	county string
	c      *syncproto.Client
	rnd    *rand.Rand
	ok     bool

	cursor    string
	sites     []site
	templates []template
	photoSeq  uint64
}

type site struct {
	id, kind string
	lon, lat float64
}

type template struct {
	id        string
	version   int
	siteKinds []string
}

// boardEntry is an inspection another device may edit (a conflict).
type boardEntry struct {
	id    string
	owner int
}

func newDevice(r *run, i int) *device {
	acct := demoInspectors[i%len(demoInspectors)]
	c := syncproto.NewClient(r.servers[i%len(r.servers)], uuid.Must(uuid.NewV7()).String())
	c.HTTP = r.http
	c.Attempts, c.Backoff = 4, 200*time.Millisecond
	return &device{r: r, index: i, user: acct.user, county: acct.county, c: c,
		rnd: rand.New(rand.NewPCG(uint64(i)+1, 0x5eed))}
}

func (d *device) login(ctx context.Context) {
	// The devices share a few demo accounts, and a username takes only a
	// few sign-ins at once (the others 429 too_many_attempts with
	// Retry-After): waited and sent again, as for a busy server.
	err := d.patiently(ctx, func() error {
		_, err := d.c.Login(ctx, d.user, demoPassword, fmt.Sprintf("fieldload %d", d.index))
		return err
	}, syncproto.CodeTooManyTries)
	if err != nil {
		d.r.fail(ctx, err)
		return
	}
	d.ok = true
}

// loop runs the device in the configured rhythm until ctx ends (or the
// device made Config.Visits).
func (d *device) loop(ctx context.Context) {
	if d.r.cfg.Rhythm == RhythmRealistic {
		d.realistic(ctx)
		return
	}
	d.stress(ctx)
}

// stress runs visits back to back (or with Config.Think between them),
// pulling before each.
func (d *device) stress(ctx context.Context) {
	for done := 0; ctx.Err() == nil && (d.r.cfg.Visits == 0 || done < d.r.cfg.Visits); {
		if err := d.pull(ctx); err != nil {
			d.r.fail(ctx, err)
			continue
		}
		if err := d.visit(ctx); err != nil {
			d.r.fail(ctx, err)
		} else {
			done++
		}
		if think := d.r.cfg.Think; think > 0 {
			sleep(ctx, think/2+time.Duration(d.rnd.Int64N(int64(think))))
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// patiently calls send, the same request each time, until the server
// does not refuse it as busy: as a phone does, it waits Retry-After (and
// up to a second more, so that refused devices do not come back all at
// once) and sends it again. The client has already retried a few times by
// then; every 503 server_busy is counted per endpoint, not as an error.
// alsoWaitOn names other codes waited on the same way.
func (d *device) patiently(ctx context.Context, send func() error, alsoWaitOn ...string) error {
	for {
		err := send()
		var ae *syncproto.APIError
		if !errors.As(err, &ae) || ae.Body.Code != syncproto.CodeServerBusy && !slices.Contains(alsoWaitOn, ae.Body.Code) {
			return err
		}
		if ctx.Err() != nil { // the run is over: cut off while waiting, not failed
			return ctx.Err()
		}
		sleep(ctx, max(ae.RetryAfter, time.Second)+time.Duration(d.rnd.Int64N(int64(time.Second))))
	}
}

// pull brings the device's slice up to date from its cursor; the pages
// pulled before a failure are kept, so a retry goes on from there.
func (d *device) pull(ctx context.Context) error {
	return d.patiently(ctx, func() error {
		cur, err := d.c.PullAll(ctx, d.cursor, defaultPullLimit, d.apply)
		if syncproto.ErrorCodeOf(err) == syncproto.CodeResyncRequired {
			d.sites, d.templates = nil, nil
			cur, err = d.c.PullAll(ctx, "", defaultPullLimit, d.apply)
		}
		d.cursor = cur
		return err
	})
}

func (d *device) apply(p *syncproto.PullResponse) error {
	for _, ch := range p.Changes {
		switch {
		case ch.Deleted:
		case ch.Entity == syncproto.EntitySite && ch.County == d.county:
			var s site
			s.id = ch.ID
			_ = json.Unmarshal(ch.Fields["kind"], &s.kind)
			_ = json.Unmarshal(ch.Fields["lon"], &s.lon)
			_ = json.Unmarshal(ch.Fields["lat"], &s.lat)
			d.sites = append(d.sites, s)
		case ch.Entity == syncproto.EntityTemplate:
			var t template
			_ = json.Unmarshal(ch.Fields["template_id"], &t.id)
			_ = json.Unmarshal(ch.Fields["version"], &t.version)
			_ = json.Unmarshal(ch.Fields["site_kinds"], &t.siteKinds)
			if t.id != "" && t.version > 0 {
				d.templates = append(d.templates, t)
			}
		}
	}
	return nil
}

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain values are marshalled here
	}
	return b
}

// visit records one inspection: 20–50 mutations in 1–3 batches, 1–3
// photos, and sometimes an edit of another device's inspection.
func (d *device) visit(ctx context.Context) error {
	if len(d.sites) == 0 || len(d.templates) == 0 {
		return fmt.Errorf("device %d: no site or template in county %s", d.index, d.county)
	}
	s := d.sites[d.rnd.IntN(len(d.sites))]
	t := d.templateFor(s.kind)
	insp := uuid.Must(uuid.NewV7()).String()
	now := time.Now()
	mut := func(entity, id string, fields map[string]json.RawMessage) syncproto.Mutation {
		return syncproto.Mutation{Entity: entity, ID: id, HLC: d.c.Clock.Now().String(), Fields: fields}
	}
	muts := []syncproto.Mutation{mut(syncproto.EntityInspection, insp, map[string]json.RawMessage{
		"site_id": raw(s.id), "template_id": raw(t.id), "template_version": raw(t.version), "status": raw("draft"),
		"started_at": raw(now.Format(time.RFC3339)), "lon": raw(s.lon), "lat": raw(s.lat)})}
	total := 20 + d.rnd.IntN(31)
	findings := 1 + d.rnd.IntN(3)
	for i := range total - 2 - findings {
		key := fmt.Sprintf("answers.item_%02d", i%40)
		muts = append(muts, mut(syncproto.EntityInspection, insp, map[string]json.RawMessage{
			key: raw(syncproto.Answer{Result: []string{syncproto.ResultPass, syncproto.ResultFail, syncproto.ResultNA}[d.rnd.IntN(3)]})}))
	}
	for i := range findings {
		muts = append(muts, mut(syncproto.EntityFinding, uuid.Must(uuid.NewV7()).String(), map[string]json.RawMessage{
			"inspection_id": raw(insp), "item_key": raw(fmt.Sprintf("item_%02d", i)), "description": raw("现场物料未苫盖，需整改"),
			"severity": raw([]string{"minor", "major", "critical"}[d.rnd.IntN(3)]),
			"deadline": raw(now.AddDate(0, 0, 30).Format(time.DateOnly)), "status": raw("open")}))
	}
	muts = append(muts, mut(syncproto.EntityInspection, insp, map[string]json.RawMessage{
		"summary": raw(fmt.Sprintf("设备 %d 检查小结 %s", d.index, now.Format(time.TimeOnly)))}))

	var photos [][]byte
	if d.r.cfg.Photos {
		for range 1 + d.rnd.IntN(3) {
			data := d.photo(s, now)
			photos = append(photos, data)
			muts = append(muts, mut(syncproto.EntityPhoto, uuid.Must(uuid.NewV7()).String(), map[string]json.RawMessage{
				"inspection_id": raw(insp), "sha256": raw(syncproto.SHA256Hex(data)), "content_type": raw("image/jpeg"),
				"size_bytes": raw(len(data)), "captured_at": raw(now.Format(time.RFC3339)), "lon": raw(s.lon), "lat": raw(s.lat),
				"crs": raw("wgs84"), "accuracy_m": raw(8.5)}))
		}
	}
	if err := d.pushInBatches(ctx, muts); err != nil {
		return err
	}
	d.r.post(d.county, boardEntry{id: insp, owner: d.index})
	for i, data := range photos {
		m := muts[len(muts)-len(photos)+i]
		u := &syncproto.Upload{PhotoID: m.ID, ContentType: "image/jpeg"}
		if err := d.c.UploadPhoto(ctx, u, data, defaultPhotoChunk, nil); err != nil {
			return err
		}
		d.r.count(&d.r.photos)
	}
	if d.rnd.Float64() < conflictProbability {
		if e, ok := d.r.peer(d.county, d.index, d.rnd); ok {
			m := mut(syncproto.EntityInspection, e.id, map[string]json.RawMessage{
				"summary": raw(fmt.Sprintf("设备 %d 补充小结 %s", d.index, time.Now().Format(time.TimeOnly)))})
			if err := d.push(ctx, []syncproto.Mutation{m}); err != nil {
				return err
			}
			d.r.count(&d.r.conflicts)
		}
	}
	d.r.count(&d.r.visits)
	return nil
}

func (d *device) templateFor(kind string) template {
	for _, t := range d.templates {
		for _, k := range t.siteKinds {
			if k == kind {
				return t
			}
		}
	}
	return d.templates[0]
}

// photo makes a small JPEG with EXIF time and GPS at the site, unique per
// photo (so each is a new blob).
func (d *device) photo(s site, now time.Time) []byte {
	d.photoSeq++
	acc := 8.5
	return testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: uint64(d.index)<<32 | d.photoSeq, Time: &now,
		GPS: &geo.Point{Lon: s.lon, Lat: s.lat}, GPSAccuracyM: &acc, Make: "HUAWEI", Model: "Mate 60", Quality: 80})
}

// pushInBatches sends muts in 1–3 consecutive batches.
func (d *device) pushInBatches(ctx context.Context, muts []syncproto.Mutation) error {
	n := 1 + d.rnd.IntN(3)
	for i := range n {
		from, to := i*len(muts)/n, (i+1)*len(muts)/n
		if err := d.push(ctx, muts[from:to]); err != nil {
			return err
		}
	}
	return nil
}

// push sends muts as one batch, the same batch id until it is answered.
func (d *device) push(ctx context.Context, muts []syncproto.Mutation) error {
	batch := uuid.Must(uuid.NewV7()).String()
	var resp *syncproto.PushResponse
	err := d.patiently(ctx, func() (err error) {
		resp, err = d.c.Push(ctx, batch, muts)
		return err
	})
	if err != nil {
		return err
	}
	d.r.acknowledge(muts, resp)
	return nil
}

func (r *run) count(n *int) {
	r.mu.Lock()
	*n++
	r.mu.Unlock()
}

// post offers an inspection for other devices of the county to edit.
func (r *run) post(county string, e boardEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := append(r.board[county], e)
	if len(b) > 64 {
		b = b[len(b)-64:]
	}
	r.board[county] = b
}

// peer picks a recent inspection of the county made by another device.
func (r *run) peer(county string, self int, rnd *rand.Rand) (boardEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.board[county]
	for range 4 {
		if len(b) == 0 {
			break
		}
		e := b[rnd.IntN(len(b))]
		if e.owner != self {
			return e, true
		}
	}
	return boardEntry{}, false
}
