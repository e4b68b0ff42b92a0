package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// feedCases: the change feed. Every write gets a greater sequence number
// than every write committed before it; Changes pages the feed in order,
// and a reader paging while writers commit sees every change exactly once.
var feedCases = []testCase{
	{"SeqIncreasesWithEveryWrite", testSeqIncreases},
	{"PagesWithMoreAndLimit", testPaging},
	{"FailedUpdateLeavesNoTrace", testRollback},
	{"CancelledUpdateLeavesNoTrace", testCancelledUpdate},
	{"CompleteUnderConcurrentWriters", testConcurrentFeed},
	{"CompleteThroughSyncerUnderConcurrentWriters", testConcurrentPull},
	{"ConvergesUnderConcurrentUpdates", testConcurrentUpdates},
	{"PullThroughSyncer", testPull},
	{"LastPageHoldsEarlierWrites", testLastPageFresh},
	{"PagesReadAheadEncodedAhead", testEncodedAhead},
	{"HighHLC", testHighHLC},
	{"Epoch", testEpoch},
}

func testSeqIncreases(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.upsert(syncproto.EntityCounty, xinfu, "", map[string]any{"code": xinfu, "name": "忻府区"})
	e.upsert(syncproto.EntityCounty, dingxia, "", map[string]any{"code": dingxia, "name": "定襄县"})
	a, b := e.get(syncproto.EntityCounty, xinfu), e.get(syncproto.EntityCounty, dingxia)
	if a.Seq <= 0 || b.Seq <= a.Seq {
		t.Fatalf("seqs %d, %d: want positive and increasing", a.Seq, b.Seq)
	}
	// An update moves the record to the end of the feed, where it appears
	// once, with its new state.
	e.upsert(syncproto.EntityCounty, xinfu, "", map[string]any{"note": "更新"})
	a2 := e.get(syncproto.EntityCounty, xinfu)
	if a2.Seq <= b.Seq {
		t.Errorf("updated seq %d not after %d", a2.Seq, b.Seq)
	}
	feed := e.feed(server.Scope{All: true}, 0, 10)
	if got := ids(feed); len(got) != 2 || got[0] != dingxia || got[1] != xinfu {
		t.Fatalf("feed %v, want [%s %s]", got, dingxia, xinfu)
	}
	if feed[1].Text("note") != "更新" || feed[1].Text("name") != "忻府区" {
		t.Errorf("feed record %+v", feed[1].State)
	}
	// Rewriting the same values writes nothing.
	e.upsert(syncproto.EntityCounty, xinfu, "", map[string]any{"note": "更新"})
	if got := e.get(syncproto.EntityCounty, xinfu).Seq; got != a2.Seq {
		t.Errorf("unchanged upsert moved seq %d → %d", a2.Seq, got)
	}
	// Several writes in one transaction get distinct increasing seqs.
	err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		for _, c := range []string{"140922", "140923", "140924"} {
			if err := e.s.Upsert(e.ctx, tx, syncproto.EntityCounty, c, "", map[string]any{"code": c}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for _, r := range e.feed(server.Scope{All: true}, 0, 10) {
		if r.Seq <= last {
			t.Errorf("feed seq %d after %d", r.Seq, last)
		}
		last = r.Seq
	}
}

func testPaging(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := e.ctx
	all := server.Scope{All: true}
	if recs, more, err := e.st.Changes(ctx, all, 0, 10); err != nil || len(recs) != 0 || more {
		t.Fatalf("empty feed: %d records, more %v, %v", len(recs), more, err)
	}
	var want []string
	err := e.st.Update(ctx, func(tx server.WriteTx) error {
		for i := range 7 {
			id := fmt.Sprintf("9999%02d", i)
			want = append(want, id)
			if err := e.s.Upsert(ctx, tx, syncproto.EntityCounty, id, "", map[string]any{"code": id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Pages of 3: 3 (more), 3 (more), 1 (no more).
	var after int64
	var got []string
	for i, wantLen := range []int{3, 3, 1} {
		recs, more, err := e.st.Changes(ctx, all, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != wantLen || more != (i < 2) {
			t.Fatalf("page %d: %d records, more %v", i, len(recs), more)
		}
		for _, r := range recs {
			if r.Seq <= after {
				t.Fatalf("page %d: seq %d not after %d", i, r.Seq, after)
			}
			after = r.Seq
			got = append(got, r.ID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("feed %v, want %v", got, want)
	}
	// A page that ends exactly at the end says no more.
	first, _, _ := e.st.Changes(ctx, all, 0, 1)
	if recs, more, err := e.st.Changes(ctx, all, first[0].Seq, 6); err != nil || len(recs) != 6 || more {
		t.Errorf("last 6 of 7 with limit 6: %d records, more %v, %v", len(recs), more, err)
	}
	// Past the end, and from the middle.
	if recs, more, err := e.st.Changes(ctx, all, after, 3); err != nil || len(recs) != 0 || more {
		t.Errorf("after the last: %d records, more %v, %v", len(recs), more, err)
	}
	mid := e.get(syncproto.EntityCounty, want[3]).Seq
	if recs := e.feed(all, mid, 2); fmt.Sprint(ids(recs)) != fmt.Sprint(want[4:]) {
		t.Errorf("after %s: %v, want %v", want[3], ids(recs), want[4:])
	}
}

func testRollback(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.upsert(syncproto.EntityCounty, xinfu, "", map[string]any{"code": xinfu})
	seq := e.lastSeq()
	high, err := e.st.HighHLC(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		if err := e.s.Upsert(e.ctx, tx, syncproto.EntityCounty, dingxia, "", map[string]any{"code": dingxia}); err != nil {
			return err
		}
		if err := e.s.Upsert(e.ctx, tx, syncproto.EntityCounty, xinfu, "", map[string]any{"note": "回滚"}); err != nil {
			return err
		}
		// The transaction sees its own writes.
		r, err := tx.Get(e.ctx, server.EntityByName(syncproto.EntityCounty), dingxia)
		if err != nil || r == nil {
			return fmt.Errorf("own write not visible: %v %v", r, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v, want the callback's error", err)
	}
	noTrace(t, e, seq, dingxia)
	if h, err := e.st.HighHLC(e.ctx); err != nil || h != high {
		t.Errorf("HighHLC %s → %s %v after a rollback", high, h, err)
	}
	// The store still writes after a failure, past the last seq.
	e.upsert(syncproto.EntityCounty, dingxia, "", map[string]any{"code": dingxia})
	if got := e.get(syncproto.EntityCounty, dingxia).Seq; got <= seq {
		t.Errorf("seq after rollback %d, not after %d", got, seq)
	}
}

// noTrace checks that an update which failed left nothing: none of the
// counties it created, no note on xinfu, and the feed still at seq.
func noTrace(t *testing.T, e *env, seq int64, created ...string) {
	t.Helper()
	for _, id := range created {
		if r := e.get(syncproto.EntityCounty, id); r != nil {
			t.Errorf("county %s of a failed update visible: %+v", id, r)
		}
	}
	if got := e.text(syncproto.EntityCounty, xinfu, "note"); got != "" {
		t.Errorf("field of a failed update visible: %q", got)
	}
	if got := e.lastSeq(); got != seq {
		t.Errorf("feed moved %d → %d", seq, got)
	}
}

// testCancelledUpdate: a write transaction whose context is cancelled
// before it commits (a push whose device hung up) keeps nothing, however
// far its statements got, and the store writes on afterwards.
func testCancelledUpdate(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.upsert(syncproto.EntityCounty, xinfu, "", map[string]any{"code": xinfu})
	seq := e.lastSeq()
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	codes := make([]string, 40)
	for i := range codes {
		codes[i] = fmt.Sprintf("1499%02d", i)
	}
	// The callback's own calls do not see the cancellation (they run under
	// another context), so only the store's handling of the transaction's
	// context stands between the cancelled request and a commit.
	err := e.st.Update(ctx, func(tx server.WriteTx) error {
		for i, code := range codes {
			if i == len(codes)/2 {
				cancel()
			}
			if err := e.s.Upsert(e.ctx, tx, syncproto.EntityCounty, code, "", map[string]any{"code": code}); err != nil {
				return err
			}
		}
		return e.s.Upsert(e.ctx, tx, syncproto.EntityCounty, xinfu, "", map[string]any{"note": "已取消"})
	})
	if err == nil {
		t.Fatal("an update whose context was cancelled before it committed succeeded")
	}
	noTrace(t, e, seq, codes...)
	e.upsert(syncproto.EntityCounty, codes[0], "", map[string]any{"code": codes[0]})
	if got := e.get(syncproto.EntityCounty, codes[0]).Seq; got <= seq {
		t.Errorf("seq after a cancelled update %d, not after %d", got, seq)
	}
}

// testConcurrentFeed: several devices push at once while a reader pages
// the feed as fast as it can. Each record is created once, so the reader
// must see each exactly once, in increasing seq order across pages.
func testConcurrentFeed(t *testing.T, open Opener) { concurrentFeed(t, open, false) }

// testConcurrentPull is testConcurrentFeed with the reader a device
// pulling through the Syncer (whose pages are read ahead while the
// device reads the one before).
func testConcurrentPull(t *testing.T, open Opener) { concurrentFeed(t, open, true) }

// feedItem is a change as the concurrent readers check it.
type feedItem struct {
	ID  string
	Seq int64
}

func concurrentFeed(t *testing.T, open Opener, syncer bool) {
	e := seeded(t, open)
	const writers, batches, perBatch = 4, 15, 5
	devs := make([]*device, writers)
	for i := range devs {
		devs[i] = e.inspector(xinfu)
	}
	start := e.lastSeq()
	scope := server.Scope{Counties: []string{xinfu}}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	created := make(chan string, writers*batches*perBatch)
	for _, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				ms := make([]syncproto.Mutation, perBatch)
				for i := range ms {
					id := uuid.NewString()
					ms[i] = d.mut(syncproto.EntityVehicleCheck, id, map[string]any{"county": xinfu, "checkpoint": "豆罗检查站",
						"plate": fmt.Sprintf("晋H%02d%03d", b, i), "checked_at": "2026-11-20T10:00:00+08:00"})
				}
				resp, err := d.pushBatch(uuid.NewString(), ms...)
				if err != nil {
					errs <- err
					return
				}
				for i, r := range resp.Results {
					if r.Status != syncproto.StatusApplied {
						errs <- fmt.Errorf("push: %+v", r)
						return
					}
					created <- ms[i].ID
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()

	seen := map[string]int64{}
	after := start
	page := func() ([]feedItem, bool, error) {
		recs, more, err := e.st.Changes(ctx, scope, after, 7)
		out := make([]feedItem, len(recs))
		for i, r := range recs {
			out[i] = feedItem{ID: r.ID, Seq: r.Seq}
		}
		return out, more, err
	}
	if syncer {
		reader := e.inspector(xinfu)
		// The reader starts at the feed position the others start from.
		cursor := server.Cursor{Seq: start, Scope: server.ScopeFingerprint(reader.p), Epoch: e.st.Epoch()}.Encode()
		page = func() ([]feedItem, bool, error) {
			resp, err := e.s.Pull(ctx, reader.p, cursor, 7, server.FormFields)
			if err != nil {
				return nil, true, err
			}
			cursor = resp.Cursor
			var out []feedItem
			for _, c := range resp.Changes {
				if c.Entity == syncproto.EntityVehicleCheck {
					out = append(out, feedItem{ID: c.ID, Seq: c.Seq})
				}
			}
			return out, resp.HasMore, nil
		}
	}
	read := func() bool { // one page; reports whether the reader is at the end
		recs, more, err := page()
		if err != nil {
			errs <- err
			return true
		}
		for _, r := range recs {
			if r.Seq <= after {
				errs <- fmt.Errorf("seq %d after cursor %d", r.Seq, after)
			}
			if prev, dup := seen[r.ID]; dup {
				errs <- fmt.Errorf("%s seen twice, at seq %d and %d", r.ID, prev, r.Seq)
			}
			seen[r.ID] = r.Seq
			after = r.Seq
		}
		return !more
	}
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
			read()
		}
	}
	for !read() { // drain what committed after the last page
	}
	close(created)
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	n := 0
	for id := range created {
		n++
		if _, ok := seen[id]; !ok {
			t.Errorf("change %s never seen by the reader", id)
		}
	}
	if n != writers*batches*perBatch || len(seen) != n {
		t.Errorf("created %d, seen %d, want %d", n, len(seen), writers*batches*perBatch)
	}
}

func testPull(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	first, err := e.s.Pull(e.ctx, d.p, "", 5, server.FormFields)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Changes) != 5 || !first.HasMore {
		t.Fatalf("first page: %d changes, more %v", len(first.Changes), first.HasMore)
	}
	site := d.site(xinfu, "新址")
	var last *syncproto.PullResponse
	n := len(first.Changes)
	cursor := first.Cursor
	for {
		resp, err := e.s.Pull(e.ctx, d.p, cursor, 5, server.FormFields)
		if err != nil {
			t.Fatal(err)
		}
		n += len(resp.Changes)
		cursor, last = resp.Cursor, resp
		if !resp.HasMore {
			break
		}
	}
	if len(last.Changes) == 0 || last.Changes[len(last.Changes)-1].ID != site {
		t.Errorf("the new site is not the feed's last change")
	}
	if want := len(e.feed(server.Scope{Counties: []string{xinfu}}, 0, 1000)); n != want {
		t.Errorf("pulled %d changes, feed has %d", n, want)
	}
	// The device's pull is recorded, with the cursor it sent.
	devs, err := e.st.Devices(e.ctx, server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, dv := range devs {
		if dv.ID == d.p.DeviceID {
			if dv.Health.LastPullAt == nil || !dv.Health.LastPullAt.Equal(t0) || dv.Health.LastAckSeq <= 0 {
				t.Errorf("device health %+v", dv.Health)
			}
		}
	}
}

// testLastPageHoldsEarlierWrites: the page that ends a pull sequence
// holds every write committed before it was asked for, even though the
// Syncer reads the next page ahead while the device reads the one before.
func testLastPageFresh(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	n := len(e.feed(server.Scope{Counties: []string{xinfu}}, 0, 1000))
	for _, form := range []server.PullForm{server.FormFields, server.FormCompact} {
		limit := n - 1 // the rest, one record, is the last page, read ahead
		first, err := e.s.Pull(e.ctx, d.p, "", limit, form)
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Changes) != limit || !first.HasMore {
			t.Fatalf("form %v: first page %d changes, more %v; want %d and more", form, len(first.Changes), first.HasMore, limit)
		}
		site := d.site(xinfu, fmt.Sprintf("新址 %v", form))
		n++
		last, err := e.s.Pull(e.ctx, d.p, first.Cursor, limit, form)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range last.Changes {
			found = found || c.ID == site
		}
		if !found || last.HasMore {
			t.Errorf("form %v: the last page (%d changes, more %v) lacks the site written before it was asked for", form, len(last.Changes), last.HasMore)
		}
	}
}

// testEncodedAhead: a page read ahead comes encoded (Syncer.EncodePage) in
// the encoding the request before it asked for, all but its server_hlc,
// which is the server's clock at the answer (after that of a push the
// device made meanwhile); only a request that asks the same encoding
// gets it. The page asked for first, and the last page, are read when
// asked and come plain.
func testEncodedAhead(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	n := len(e.feed(server.Scope{Counties: []string{xinfu}}, 0, 1000))
	encoded := make(chan struct{}, 8) // a page read ahead is ready
	e.s.EncodePage = func(pg *server.PullPage, encoding string) any {
		defer func() { encoded <- struct{}{} }()
		if encoding != "x-test" {
			return nil
		}
		return "x-test:" + string(pg.AppendHead(nil))
	}
	limit := n/4 + 1 // four pages, the last one short
	pull := func(cursor, encoding string) *server.PullPage {
		t.Helper()
		pg, err := e.s.PullPage(e.ctx, d.p, server.PullQuery{Cursor: cursor, Limit: limit, Form: server.FormCompact, Encoding: encoding})
		if err != nil {
			t.Fatal(err)
		}
		return pg
	}
	seen := 0
	var pages []*server.PullPage
	var pushed syncproto.HLC
	cursor := ""
	// The second and third pages are read ahead for a request that asks
	// x-test; the fourth was read ahead in x-test too, but is asked for
	// plain (and is the last). Between the second and the third the
	// device pushes a site, which the last page holds.
	for i, enc := range []string{"x-test", "x-test", "x-test", ""} {
		if i == 2 {
			// The second and third pages have been read ahead.
			for range 2 {
				select {
				case <-encoded:
				case <-time.After(time.Minute):
					t.Fatal("no page read ahead")
				}
			}
			resp := d.push(d.mut(syncproto.EntitySite, uuid.NewString(), map[string]any{"county": xinfu, "kind": "factory",
				"name": "读页之间新建", "lon": 112.73, "lat": 38.42, "crs": "wgs84"}))
			if r := resp.Results[0]; r.Status != syncproto.StatusApplied {
				t.Fatalf("push between pages: %+v", r)
			}
			n++
			var err error
			if pushed, err = syncproto.ParseHLC(resp.ServerHLC); err != nil {
				t.Fatal(err)
			}
		}
		pg := pull(cursor, enc)
		pages = append(pages, pg)
		seen += pg.Len()
		cursor = pg.Cursor
		if pg.HasMore != (i < 3) {
			t.Fatalf("page %d: has_more %v", i+1, pg.HasMore)
		}
	}
	if seen != n {
		t.Fatalf("four pages of %d records hold %d, want %d", limit, seen, n)
	}
	for i, pg := range pages {
		if i != 1 && i != 2 {
			if pg.Encoded != nil || pg.Encoding != "" {
				t.Errorf("page %d: encoded %q ahead; want it plain", i+1, pg.Encoding)
			}
			continue
		}
		if pg.Encoding != "x-test" {
			t.Errorf("page %d: encoding %q; want x-test", i+1, pg.Encoding)
		}
		// The head encoded ahead, finished with the answer's tail, is the
		// page; the page gave its changes' memory back (PullPage.Release).
		got := encodedPage(t, pg)
		if got.Cursor != pg.Cursor || got.HasMore != pg.HasMore || got.ServerHLC != pg.ServerHLC || compactCount(got) != pg.Len() {
			t.Errorf("page %d encoded ahead: cursor %q more %v server_hlc %s, %d records; want %q %v %s %d", i+1,
				got.Cursor, got.HasMore, got.ServerHLC, compactCount(got), pg.Cursor, pg.HasMore, pg.ServerHLC, pg.Len())
		}
		if pg.Changes != nil || pg.Compact != nil {
			t.Errorf("page %d encoded ahead still holds its changes", i+1)
		}
	}
	if h, err := syncproto.ParseHLC(pages[2].ServerHLC); err != nil || h.Compare(pushed) <= 0 {
		t.Errorf("the page read ahead before a push answers server_hlc %s after it, the push's was %s", pages[2].ServerHLC, pushed)
	}
	// A page read ahead in x-test does not answer a request that asks
	// for none: it is read again, plain.
	first := pull("", "x-test")
	second := pull(first.Cursor, "")
	if second.Encoded != nil || second.Cursor != pages[1].Cursor || second.Len() != pages[1].Len() {
		t.Errorf("second page asked plain: encoded %q (%v), %d records; want plain, the same %d records", second.Encoding, second.Encoded, second.Len(), pages[1].Len())
	}
	var plain syncproto.CompactPage
	if err := json.Unmarshal(second.AppendJSON(nil), &plain); err != nil {
		t.Fatal(err)
	}
	if want, got := compactIDs(plain), compactIDs(encodedPage(t, pages[1])); !slices.Equal(got, want) {
		t.Errorf("second page encoded ahead holds %v; read plain, %v", got, want)
	}
	second.Release()
	if second.Len() != pages[1].Len() || second.Changes != nil || second.Compact != nil {
		t.Errorf("a released page: %d records, changes %v, compact %v; want its count kept and nothing else", second.Len(), second.Changes, second.Compact)
	}
}

// encodedPage decodes a page encoded ahead by testEncodedAhead's
// EncodePage, finished with its tail.
func encodedPage(t *testing.T, pg *server.PullPage) syncproto.CompactPage {
	t.Helper()
	head, _ := pg.Encoded.(string)
	var cp syncproto.CompactPage
	if err := json.Unmarshal([]byte(strings.TrimPrefix(head, "x-test:")+string(pg.AppendTail(nil))), &cp); err != nil {
		t.Fatalf("page encoded ahead: %v", err)
	}
	return cp
}

// compactCount is the number of records of a compact page.
func compactCount(cp syncproto.CompactPage) int {
	n := 0
	for _, recs := range cp.Records {
		n += len(recs)
	}
	return n
}

// compactIDs lists the entity and id of a compact page's records, sorted.
func compactIDs(cp syncproto.CompactPage) []string {
	var ids []string
	for entity, recs := range cp.Records {
		for _, r := range recs {
			ids = append(ids, entity+"/"+r.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func testHighHLC(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	// A device clock 2 minutes ahead (within the allowed skew) raises the
	// store's high-water mark with its write, and a delete's HLC too. The
	// push's answer, stamped by the server's clock now ahead of physical
	// time, raises it to the next millisecond (Syncer.ServerHLC), no
	// further.
	covers := func(what string, h syncproto.HLC) {
		t.Helper()
		got, err := e.st.HighHLC(e.ctx)
		next := syncproto.HLC{Wall: h.Wall + 1, Node: syncproto.ServerNode}
		if err != nil || (got != h && got != next) {
			t.Errorf("HighHLC %s %v %s, want %s or %s", got, err, what, h, next)
		}
	}
	site := d.site(xinfu, "甲")
	ahead := syncproto.HLC{Wall: t0.Add(2 * time.Minute).UnixMilli(), Counter: 3, Node: d.p.DeviceID}
	d.pushOK(d.mutAt(ahead, syncproto.EntitySite, site, map[string]any{"note": "快"}))
	covers("after a write ahead", ahead)
	_, insp := d.newInspection(xinfu)
	del := syncproto.HLC{Wall: t0.Add(3 * time.Minute).UnixMilli(), Node: d.p.DeviceID}
	d.pushOK(syncproto.Mutation{Entity: syncproto.EntityInspection, ID: insp, Delete: true, HLC: del.String()})
	covers("after a delete", del)
	// A refused write (too far ahead) does not raise it.
	far := syncproto.HLC{Wall: t0.Add(time.Hour).UnixMilli(), Node: d.p.DeviceID}
	if r := d.push(d.mutAt(far, syncproto.EntitySite, site, map[string]any{"note": "太快"})).Results[0]; r.Code != syncproto.CodeClockSkew {
		t.Errorf("write an hour ahead: %+v", r)
	}
	covers("after a refused write", del)
	// A restarted server's clock starts past it.
	s2 := server.NewSyncer(e.st, e.Now)
	if err := s2.RestoreClock(e.ctx); err != nil {
		t.Fatal(err)
	}
	if h := s2.Clock.Now(); h.Compare(del) <= 0 {
		t.Errorf("restored clock %s not past %s", h, del)
	}
	// Another server on the store answers past what this one answered
	// ahead of physical time, once it follows the mark; and its own
	// answers then are covered in turn.
	var last syncproto.HLC
	for range 50 {
		last, _ = syncproto.ParseHLC(e.s.ServerHLC())
	}
	if err := s2.RestoreClock(e.ctx); err != nil {
		t.Fatal(err)
	}
	h2, _ := syncproto.ParseHLC(s2.ServerHLC())
	if h2.Compare(last) <= 0 {
		t.Errorf("the other server answers %s after following the mark, not past %s", h2, last)
	}
	if err := e.s.RestoreClock(e.ctx); err != nil {
		t.Fatal(err)
	}
	if h, _ := syncproto.ParseHLC(e.s.ServerHLC()); h.Compare(h2) <= 0 {
		t.Errorf("the first server answers %s after following the mark, not past the other's %s", h, h2)
	}
}

func testEpoch(t *testing.T, open Opener) {
	e := seeded(t, open)
	other := newEnv(t, open)
	if e.st.Epoch() == "" {
		t.Fatalf("epoch %q", e.st.Epoch())
	}
	if e.st.Epoch() == other.st.Epoch() {
		t.Errorf("two databases share the epoch %q", e.st.Epoch())
	}
	d := e.inspector(xinfu)
	resp, err := e.s.Pull(e.ctx, d.p, "", 5, server.FormFields)
	if err != nil {
		t.Fatal(err)
	}
	// The other database refuses this one's cursor.
	other.loadReference()
	od := other.inspector(xinfu)
	od.p.Counties = d.p.Counties
	_, err = other.s.Pull(other.ctx, od.p, resp.Cursor, 5, server.FormFields)
	wantCode(t, err, syncproto.CodeResyncRequired, "cursor of another database")

	// A cursor of this database past the end of its feed (made before the
	// database was restored to an earlier state) is refused too, whatever
	// the form; one at the end is the empty page it always was.
	head, err := e.st.FeedHead(e.ctx)
	if err != nil || head <= 0 {
		t.Fatalf("FeedHead %d, %v", head, err)
	}
	at := func(seq int64) string {
		return server.Cursor{Seq: seq, Scope: server.ScopeFingerprint(d.p), Epoch: e.st.Epoch()}.Encode()
	}
	for _, form := range []server.PullForm{server.FormFields, server.FormGrouped, server.FormCompact} {
		for _, seq := range []int64{head + 1, head + 1000} {
			_, err := e.s.Pull(e.ctx, d.p, at(seq), 5, form)
			wantCode(t, err, syncproto.CodeResyncRequired, fmt.Sprintf("cursor %d past the head %d, form %d", seq, head, form))
		}
		if r, err := e.s.Pull(e.ctx, d.p, at(head), 5, form); err != nil || len(r.Changes) != 0 || r.HasMore {
			t.Errorf("cursor at the head, form %d: %v %v", form, r, err)
		}
	}
	// The head is where the writes have numbered to.
	d.site(xinfu, "新")
	if h, err := e.st.FeedHead(e.ctx); err != nil || h <= head {
		t.Errorf("FeedHead %d after a write, was %d (%v)", h, head, err)
	}
	if r, err := e.s.Pull(e.ctx, d.p, at(head), 5, server.FormFields); err != nil || len(r.Changes) != 1 {
		t.Errorf("pull after the write: %v %v", r, err)
	}
}

// testConcurrentUpdates: devices edit their records over and over, and the
// office writes to the same records, while a reader follows the feed. A
// record may come again, but only with a greater seq than it came with
// before; at the end the reader's copy of every record is the stored one.
func testConcurrentUpdates(t *testing.T, open Opener) {
	e := seeded(t, open)
	const writers, rounds, records = 3, 20, 4
	devs := make([]*device, writers)
	sites := make([][]string, writers)
	for i := range devs {
		devs[i] = e.inspector(xinfu)
		for range records {
			sites[i] = append(sites[i], devs[i].site(xinfu, "厂"))
		}
	}
	start := e.lastSeq()
	scope := server.Scope{Counties: []string{xinfu}}
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for i, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				ms := make([]syncproto.Mutation, 0, records)
				for k, id := range sites[i] {
					ms = append(ms, d.mut(syncproto.EntitySite, id, map[string]any{"note": fmt.Sprintf("%d-%d-%d", i, r, k)}))
				}
				if _, err := d.pushBatch(uuid.NewString(), ms...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // the office renames the first device's sites meanwhile
		defer wg.Done()
		for r := range rounds {
			err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
				return e.s.Upsert(e.ctx, tx, syncproto.EntitySite, sites[0][r%records], xinfu, map[string]any{"address": fmt.Sprint("地址", r)})
			})
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()

	copyOf := map[string]*server.StoredRecord{}
	after := start
	read := func() bool {
		recs, more, err := e.st.Changes(e.ctx, scope, after, 5)
		if err != nil {
			errs <- err
			return true
		}
		for _, r := range recs {
			if r.Seq <= after {
				errs <- fmt.Errorf("seq %d after cursor %d", r.Seq, after)
			}
			if prev := copyOf[r.ID]; prev != nil && prev.Seq >= r.Seq {
				errs <- fmt.Errorf("%s again at seq %d after %d", r.ID, r.Seq, prev.Seq)
			}
			copyOf[r.ID] = r
			after = r.Seq
		}
		return !more
	}
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
			read()
		}
	}
	for !read() {
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	for i := range sites {
		for k, id := range sites[i] {
			stored, seen := e.get(syncproto.EntitySite, id), copyOf[id]
			switch {
			case seen == nil:
				t.Errorf("site %s never seen", id)
			case seen.Seq != stored.Seq || seen.Text("note") != stored.Text("note") || seen.Text("address") != stored.Text("address"):
				t.Errorf("site %s: reader has seq %d %q %q, store %d %q %q", id, seen.Seq, seen.Text("note"), seen.Text("address"),
					stored.Seq, stored.Text("note"), stored.Text("address"))
			case stored.Text("note") != fmt.Sprintf("%d-%d-%d", i, rounds-1, k):
				t.Errorf("site %s note %q, want the last round's", id, stored.Text("note"))
			case i == 0 && stored.Text("address") != fmt.Sprint("地址", rounds-records+k):
				// No write lost another's field: the office's last
				// address stays beside the device's last note.
				t.Errorf("site %s address %q, want the office's last", id, stored.Text("address"))
			}
		}
	}
}
