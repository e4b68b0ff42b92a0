package photos_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// photoBy pushes a photo record for data from phone c and returns its id.
func (w *world) photoBy(t *testing.T, c *syncproto.Client, inspection string, data []byte) string {
	t.Helper()
	id := newID()
	apptest.PushApplied(t, c, mut(c, "photo", id, map[string]any{"inspection_id": inspection, "sha256": apptest.SHA256(data),
		"content_type": "image/jpeg", "captured_at": w.visitStart.Add(20 * time.Minute).Format(time.RFC3339)}))
	return id
}

// inspection pushes an inspection at site from phone c and returns its id.
func (w *world) inspection(t *testing.T, c *syncproto.Client, site string) string {
	t.Helper()
	id := newID()
	apptest.PushApplied(t, c, mut(c, "inspection", id, map[string]any{"site_id": site, "template_id": "coal_yard",
		"template_version": 1, "status": "draft", "started_at": w.visitStart.Format(time.RFC3339)}))
	return id
}

// notes returns a photo's reused_by note ({} when there is none).
func (w *world) notes(t *testing.T, id string) map[string]any {
	t.Helper()
	var n struct {
		ReusedBy map[string]any `json:"reused_by"`
	}
	if raw := w.record(t, id)["notes"]; raw != nil {
		if err := json.Unmarshal(raw, &n); err != nil {
			t.Fatalf("photo %s notes %s: %v", id, raw, err)
		}
	}
	if n.ReusedBy == nil {
		return map[string]any{}
	}
	return n.ReusedBy
}

// refs returns the photo references of a duplicate flag or a note.
func refs(v map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := v["photos"].([]any)
	for _, r := range list {
		m, _ := r.(map[string]any)
		out = append(out, m)
	}
	return out
}

// pulled returns everything phone c pulls from the beginning, as JSON.
func pulled(t *testing.T, c *syncproto.Client) string {
	t.Helper()
	var all []syncproto.Change
	if _, err := c.PullAll(ctx, "", 500, func(p *syncproto.PullResponse) error {
		all = append(all, p.Changes...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(all)
	return string(b)
}

func containsAny(s string, subs ...string) string {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}

// TestReuseAcrossCounties: an honest photo in 忻府区, then the same file
// and a re-encoded copy in 宁武县. Both reuses are flagged, city-wide, but
// their flags carry no id or site of 忻府区; the original is not flagged
// and carries an informational note that names no id of 宁武县; neither
// county's phones pull anything of the other's.
func TestReuseAcrossCounties(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 21, Time: &taken, GPS: &siteAt})
	original := w.photo(t, w.insp, data, nil)
	w.srv.Tus(w.phone).Upload(original, "image/jpeg", data, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()

	ningwu := w.srv.Login(apptest.NingwuInsp)
	theirSite := apptest.DemoSite(t, apptest.Ningwu)
	theirInsp := w.inspection(t, ningwu, theirSite)
	copied := w.photoBy(t, ningwu, theirInsp, data)
	// The bytes are on the server already; the record counts as the same
	// file once its phone has sent them for it (possession).
	w.srv.Tus(ningwu).Upload(copied, "image/jpeg", data, http.StatusNoContent)
	// A record that only declares the original's hash and never sends the
	// bytes is no reuse of it: it must not count in the original's note.
	w.photoBy(t, ningwu, theirInsp, data)
	again := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 21, Quality: 60, Time: &taken})
	near := w.photoBy(t, ningwu, theirInsp, again)
	w.srv.Tus(ningwu).Upload(near, "image/jpeg", again, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()

	ours := []string{original, w.insp, w.site}
	theirs := []string{copied, near, theirInsp, theirSite}
	dup := w.flags(t, copied)["duplicate"]
	if dup == nil || len(refs(dup)) != 1 || refs(dup)[0]["county"] != apptest.Xinfu || refs(dup)[0]["text"] != "与其他区县的一张照片重复" {
		t.Errorf("the copy in 宁武县: flags %v, want duplicate of a photo in %s, without ids", w.flags(t, copied), apptest.Xinfu)
	}
	nd := w.flags(t, near)["near_duplicate"]
	if nd == nil || nd["county"] != apptest.Xinfu || nd["distance"] == nil {
		t.Errorf("the re-encoded copy in 宁武县: flags %v, want near_duplicate of a photo in %s", w.flags(t, near), apptest.Xinfu)
	}
	for _, id := range []string{copied, near} {
		if leak := containsAny(string(w.record(t, id)["flags"])+string(w.record(t, id)["notes"]), ours...); leak != "" {
			t.Errorf("photo %s in 宁武县 names %s of 忻府区: %s", id, leak, w.record(t, id)["flags"])
		}
	}

	if f := w.flags(t, original); f["duplicate"] != nil || f["near_duplicate"] != nil {
		t.Errorf("the honest original is flagged: %v", f)
	}
	note := w.notes(t, original)
	if note["count"] != 2.0 || len(refs(note)) != 2 {
		t.Fatalf("the original's note %v, want reused_by twice", note)
	}
	kinds := map[any]bool{}
	for _, r := range refs(note) {
		kinds[r["kind"]] = true
		if r["county"] != apptest.Ningwu || r["photo_id"] != nil || r["text"] == nil {
			t.Errorf("the original's note names %v, want 宁武县 without ids", r)
		}
	}
	if !kinds["duplicate"] || !kinds["near_duplicate"] {
		t.Errorf("the original's note has kinds %v, want duplicate and near_duplicate", kinds)
	}
	if leak := containsAny(string(w.record(t, original)["notes"])+string(w.record(t, original)["flags"]), theirs...); leak != "" {
		t.Errorf("the original in 忻府区 names %s of 宁武县: %s", leak, w.record(t, original)["notes"])
	}

	if leak := containsAny(pulled(t, ningwu), ours...); leak != "" {
		t.Errorf("a phone in 宁武县 pulled %s of 忻府区", leak)
	}
	if leak := containsAny(pulled(t, w.phone), theirs...); leak != "" {
		t.Errorf("a phone in 忻府区 pulled %s of 宁武县", leak)
	}
}

// TestReuseInOneCounty: within a county the reuse's flag names the earlier
// photo and its site, and the earlier photo's note names the reuse.
func TestReuseInOneCounty(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 22, Time: &taken, GPS: &siteAt})
	first := w.photo(t, w.insp, data, nil)
	w.srv.Tus(w.phone).Upload(first, "image/jpeg", data, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	other := w.srv.Login(apptest.Inspector2)
	second := w.photoBy(t, other, w.inspection(t, other, w.site), data)
	w.srv.Tus(other).Upload(second, "image/jpeg", data, http.StatusNoContent)
	again := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 22, Quality: 55, Time: &taken})
	elsewhere := w.photoBy(t, other, w.inspection(t, other, w.other), again)
	w.srv.Tus(other).Upload(elsewhere, "image/jpeg", again, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()

	if d := refs(w.flags(t, second)["duplicate"]); len(d) != 1 || d[0]["photo_id"] != first || d[0]["site_id"] != w.site || d[0]["county"] != apptest.Xinfu {
		t.Errorf("the second use: flags %v, want duplicate of %s at %s", w.flags(t, second), first, w.site)
	}
	if nd := w.flags(t, elsewhere)["near_duplicate"]; nd == nil || nd["photo_id"] != first || nd["site_id"] != w.site {
		t.Errorf("the copy at another site: flags %v, want near_duplicate of %s", w.flags(t, elsewhere), first)
	}
	if f := w.flags(t, first); f["duplicate"] != nil || f["near_duplicate"] != nil {
		t.Errorf("the first use is flagged: %v", f)
	}
	got := map[any]any{}
	for _, r := range refs(w.notes(t, first)) {
		got[r["photo_id"]] = r["kind"]
	}
	if len(got) != 2 || got[second] != "duplicate" || got[elsewhere] != "near_duplicate" {
		t.Errorf("the first use's note %v, want %s (duplicate) and %s (near_duplicate)", w.notes(t, first), second, elsewhere)
	}
}

// TestReuseOrderIsReceiptOrder: which photo is the reuse depends on when
// the server received the records, not on the order they are processed
// in, nor on the capture time a phone claims (the later record says it was
// taken a day earlier). Processing the later ones first, then the earlier,
// ends where processing in order does, and so does reprocessing; a flag
// left on the original by an earlier version is corrected at start.
func TestReuseOrderIsReceiptOrder(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Demo, cfg.BcryptCost, cfg.HoldPhotoProcessing = "127.0.0.1:0", t.TempDir(), true, 4, true
	cfg.DemoMonth = false // the restart below waits for every unprocessed photo
	w := setupOn(t, apptest.StartConfig(t, cfg))
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 23, Time: &taken, GPS: &siteAt})
	again := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 23, Quality: 55, Time: &taken})
	earlier := w.photo(t, w.insp, data, nil)
	later := w.photo(t, w.inspection(t, w.phone, w.site), data, map[string]any{"captured_at": w.visitStart.Add(-24 * time.Hour).Format(time.RFC3339)})
	near := w.photo(t, w.inspection(t, w.phone, w.other), again, nil)
	tus := w.srv.Tus(w.phone)
	tus.Upload(earlier, "image/jpeg", data, http.StatusNoContent)
	tus.Upload(later, "image/jpeg", data, http.StatusNoContent)
	tus.Upload(near, "image/jpeg", again, http.StatusNoContent)

	state := func() string {
		var b strings.Builder
		for _, id := range []string{earlier, later, near} {
			r := w.record(t, id)
			b.WriteString(string(r["flags"]) + " " + string(r["notes"]) + "\n")
		}
		return b.String()
	}
	process := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			if err := w.srv.App.Photos.Process(ctx, id); err != nil {
				t.Fatalf("process %s: %v", id, err)
			}
		}
	}
	check := func(when string) {
		t.Helper()
		if f := w.flags(t, earlier); f["duplicate"] != nil || f["near_duplicate"] != nil {
			t.Errorf("%s: the earlier photo is flagged: %v", when, f)
		}
		if d := refs(w.flags(t, later)["duplicate"]); len(d) != 1 || d[0]["photo_id"] != earlier {
			t.Errorf("%s: the later photo's flags %v, want duplicate of %s", when, w.flags(t, later), earlier)
		}
		if nd := w.flags(t, near)["near_duplicate"]; nd == nil || nd["photo_id"] != earlier {
			t.Errorf("%s: the near copy's flags %v, want near_duplicate of %s", when, w.flags(t, near), earlier)
		}
		if n := w.notes(t, earlier); n["count"] != 2.0 {
			t.Errorf("%s: the earlier photo's note %v, want two reuses", when, n)
		}
	}
	process(later, near, earlier)
	check("later ones processed first")
	outOfOrder := state()
	process(earlier, later, near)
	check("reprocessed in order")
	if inOrder := state(); inOrder != outOfOrder {
		t.Errorf("processing order changed the outcome:\nout of order:\n%s\nin order:\n%s", outOfOrder, inOrder)
	}

	// What an earlier version left: the original flagged too, naming the
	// reuse. The next start corrects it.
	legacy := map[string]any{"duplicate": map[string]any{"photo_ids": []string{later}}}
	if err := w.srv.App.Syncer.SetServerFields(ctx, syncproto.EntityPhoto, earlier, map[string]any{"flags": legacy, "notes": nil}); err != nil {
		t.Fatal(err)
	}
	w.srv.Stop()
	cfg.HoldPhotoProcessing = false
	w.srv = apptest.StartConfig(t, cfg)
	w.srv.App.Photos.WaitIdle()
	check("after a restart")
	if got := state(); got != outOfOrder {
		t.Errorf("after a restart:\n%s\nwant:\n%s", got, outOfOrder)
	}
}

// TestReuseInOneBatch: an original and its reuse at another site pushed in
// one batch (received in the same millisecond) are told apart by the
// order the phone made them in, not by their ids: the reuse is flagged,
// never the original, whichever id sorts first.
func TestReuseInOneBatch(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	elsewhere := w.inspection(t, w.phone, w.other)
	tus := w.srv.Tus(w.phone)
	for i, prefix := range [][2]string{{"f", "0"}, {"0", "f"}} {
		data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: uint64(25 + i), Time: &taken, GPS: &siteAt})
		tail := newID()[1:]
		original, reuse := prefix[0]+tail, prefix[1]+tail[:len(tail)-1]+"a"
		fields := func(insp string) map[string]any {
			return map[string]any{"inspection_id": insp, "sha256": apptest.SHA256(data), "content_type": "image/jpeg",
				"size_bytes": len(data), "captured_at": taken.Format(time.RFC3339)}
		}
		first := mut(w.phone, "photo", original, fields(w.insp))
		second := mut(w.phone, "photo", reuse, fields(elsewhere))
		apptest.PushApplied(t, w.phone, first, second)
		tus.Upload(reuse, "image/jpeg", data, http.StatusNoContent)
		tus.Upload(original, "image/jpeg", data, http.StatusNoContent)
		w.srv.App.Photos.WaitIdle()
		if f := w.flags(t, original); f["duplicate"] != nil {
			t.Errorf("ids %s…/%s…: the original, first in the batch, is flagged: %v", prefix[0], prefix[1], f)
		}
		if d := refs(w.flags(t, reuse)["duplicate"]); len(d) != 1 || d[0]["photo_id"] != original {
			t.Errorf("ids %s…/%s…: the reuse's flags %v, want duplicate of the original", prefix[0], prefix[1], w.flags(t, reuse))
		}
	}
}

// TestOnePhotoForTwoItems: the same picture as the evidence of two
// checklist items of one inspection flags the later one (duplicate_item,
// naming the other item); the earlier has a note. The same picture on a
// finding of that inspection is its evidence, not a reuse.
func TestOnePhotoForTwoItems(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 24, Time: &taken, GPS: &siteAt})
	tus := w.srv.Tus(w.phone)
	fence := w.photo(t, w.insp, data, map[string]any{"item_key": "fence"})
	tus.Upload(fence, "image/jpeg", data, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	cover := w.photo(t, w.insp, data, map[string]any{"item_key": "material_cover"})
	tus.Upload(cover, "image/jpeg", data, http.StatusNoContent)
	finding := newID()
	apptest.PushApplied(t, w.phone, mut(w.phone, "finding", finding, map[string]any{"inspection_id": w.insp, "item_key": "fence",
		"description": "围挡破损", "severity": "minor"}))
	onFinding := w.photo(t, w.insp, data, map[string]any{"finding_id": finding, "item_key": "fence"})
	tus.Upload(onFinding, "image/jpeg", data, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()

	d := refs(w.flags(t, cover)["duplicate_item"])
	if len(d) != 1 || d[0]["photo_id"] != fence || d[0]["item_key"] != "fence" {
		t.Errorf("the photo reused for a second item: flags %v, want duplicate_item of %s (fence)", w.flags(t, cover), fence)
	}
	for _, id := range []string{fence, onFinding} {
		if f := w.flags(t, id); f["duplicate_item"] != nil || f["duplicate"] != nil {
			t.Errorf("photo %s is flagged: %v", id, f)
		}
	}
	if n := refs(w.notes(t, fence)); len(n) != 1 || n[0]["photo_id"] != cover || n[0]["kind"] != "duplicate_item" {
		t.Errorf("the first item's photo has note %v, want reused_by %s", w.notes(t, fence), cover)
	}
}

// TestReuseBetweenPhotosOfTheOriginal: the inspection that used the bytes
// first takes another photo of them (another item) after a second
// inspection reused them: the second inspection's photo is the duplicate,
// of the first photo only; the first inspection's later photo is flagged
// only as the same picture for two items, never as a duplicate of the
// reuse it came before (it was flagged duplicate of the reuse, and the
// honest inspection's reviewer told its photo repeated one from the other
// site).
func TestReuseBetweenPhotosOfTheOriginal(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 31, Time: &taken, GPS: &siteAt})
	tus := w.srv.Tus(w.phone)
	upload := func(id string) {
		t.Helper()
		tus.Upload(id, "image/jpeg", data, http.StatusNoContent)
		w.srv.App.Photos.WaitIdle()
	}
	q1 := w.photo(t, w.insp, data, map[string]any{"item_key": "material_cover"})
	upload(q1)
	reuse := w.inspection(t, w.phone, w.other)
	q2 := w.photo(t, reuse, data, map[string]any{"item_key": "material_cover"})
	upload(q2)
	q3 := w.photo(t, w.insp, data, map[string]any{"item_key": "fence"})
	upload(q3)

	if d := refs(w.flags(t, q2)["duplicate"]); len(d) != 1 || d[0]["photo_id"] != q1 {
		t.Errorf("the reuse's duplicate flag: %v, want the original's first photo %s alone", w.flags(t, q2)["duplicate"], q1)
	}
	f3 := w.flags(t, q3)
	if f3["duplicate"] != nil {
		t.Errorf("the original inspection's later photo is flagged duplicate: %v", f3["duplicate"])
	}
	if d := refs(f3["duplicate_item"]); len(d) != 1 || d[0]["photo_id"] != q1 {
		t.Errorf("the original inspection's later photo: duplicate_item %v, want %s", f3["duplicate_item"], q1)
	}
	if f := w.flags(t, q1); f["duplicate"] != nil || f["duplicate_item"] != nil {
		t.Errorf("the first photo is flagged: %v", f)
	}
	if n := refs(w.notes(t, q1)); len(n) != 2 {
		t.Errorf("the first photo's notes %v, want reused by the reuse and by its own second item", w.notes(t, q1))
	}
	if n := refs(w.notes(t, q3)); len(n) != 0 {
		t.Errorf("the original inspection's later photo has notes %v, want none (the reuse came before it)", w.notes(t, q3))
	}
}
