package app_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// completeness reads an inspection's missing_items and unknown_answers
// from the server's store.
func completeness(t *testing.T, srv *apptest.Server, id string) ([]syncproto.MissingItem, []string) {
	t.Helper()
	rec, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, id)
	if err != nil || rec == nil {
		t.Fatalf("inspection %s: %v", id, err)
	}
	var missing []syncproto.MissingItem
	var unknown []string
	if err := json.Unmarshal(rec.Value("missing_items"), &missing); err != nil {
		t.Fatalf("missing_items %s: %v", rec.Value("missing_items"), err)
	}
	if err := json.Unmarshal(rec.Value("unknown_answers"), &unknown); err != nil {
		t.Fatalf("unknown_answers %s: %v", rec.Value("unknown_answers"), err)
	}
	return missing, unknown
}

// has reports whether missing lists key for reason.
func has(missing []syncproto.MissingItem, key, reason string) bool {
	return slices.ContainsFunc(missing, func(m syncproto.MissingItem) bool { return m.Key == key && m.Reason == reason })
}

// TestMissingItemsFollowAnswersAndPhotos drives an inspection of
// construction_dust (17 items, 14 required, 10 of them with a photo)
// through the real server: missing_items starts with every required
// answer and photo, shrinks as answers arrive, loses a photo entry only
// once the photo's bytes are uploaded, gets it back when the photo moves
// to another item; an answer of the wrong type is listed as invalid, one
// to a key the checklist lacks is kept and listed in unknown_answers.
// Phones pull both fields, with the server's HLC, and may not write them.
func TestMissingItemsFollowAnswersAndPhotos(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := newInspection(t, phone, apptest.Xinfu)

	missing, unknown := completeness(t, srv, insp)
	if keys := syncproto.MissingKeys(missing); len(keys) != 14 || len(missing) != 14+10 || len(unknown) != 0 {
		t.Fatalf("a new inspection: %d items missing (%d entries), unknown %v; want 14 items, 24 entries, none unknown: %+v",
			len(keys), len(missing), unknown, missing)
	}
	if !has(missing, "fence", syncproto.MissingAnswer) || !has(missing, "fence", syncproto.MissingPhoto) || has(missing, "pm10_reading", syncproto.MissingAnswer) {
		t.Fatalf("a new inspection: %+v", missing)
	}

	answer := func(kv ...any) {
		t.Helper()
		wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields(kv...))), "applied")
	}
	answer("answers.fence", map[string]any{"result": "pass"}, "answers.online_monitor", map[string]any{"result": "na", "note": "小型工地"},
		"answers.muck_truck_route", "pass", // a bare value, as the old guide showed: read as {"result": "pass"}
		"answers.pm10_reading", map[string]any{"value": "很高"}, "answers.nosuch", map[string]any{"result": "pass"})
	missing, unknown = completeness(t, srv, insp)
	switch {
	case has(missing, "fence", syncproto.MissingAnswer) || has(missing, "online_monitor", syncproto.MissingAnswer) || has(missing, "muck_truck_route", syncproto.MissingAnswer):
		t.Errorf("answered items still missing: %+v", missing)
	case !has(missing, "fence", syncproto.MissingPhoto):
		t.Errorf("fence answered without a photo: its photo is no longer missing: %+v", missing)
	case !has(missing, "pm10_reading", syncproto.MissingInvalid):
		t.Errorf("a text answer to a number item is not invalid: %+v", missing)
	case len(syncproto.MissingKeys(missing)) != 13:
		t.Errorf("%d items missing, want 13 (11 required unanswered, fence's photo, pm10 invalid): %+v", len(syncproto.MissingKeys(missing)), missing)
	case !slices.Equal(unknown, []string{"nosuch"}):
		t.Errorf("unknown_answers %v, want [nosuch]", unknown)
	}
	if rec, _ := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp); string(rec.Value("answers.nosuch")) != `{"result":"pass"}` {
		t.Errorf("the unknown answer was not kept: %s", rec.Value("answers.nosuch"))
	}

	// A photo of the fence: the record alone is not evidence yet; its
	// uploaded bytes are.
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 11})
	photo := newID()
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, photo, apptest.Fields(
		"inspection_id", insp, "item_key", "fence", "sha256", apptest.SHA256(data), "content_type", "image/jpeg",
		"size_bytes", len(data)))), "applied")
	if missing, _ = completeness(t, srv, insp); has(missing, "fence", syncproto.MissingPhoto) || !has(missing, "fence", syncproto.MissingUpload) {
		t.Errorf("photo record pushed, bytes not uploaded: %+v", missing)
	}
	srv.Tus(phone).Upload(photo, "image/jpeg", data, http.StatusNoContent)
	if missing, _ = completeness(t, srv, insp); slices.ContainsFunc(missing, func(m syncproto.MissingItem) bool { return m.Key == "fence" }) {
		t.Errorf("fence answered and its photo uploaded, still missing: %+v", missing)
	}

	// The photo taken off the item (photos are evidence: a device never
	// deletes one, it moves it): the fence lacks its photo again.
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, photo, apptest.Fields("item_key", "material_cover"))), "applied")
	if missing, _ = completeness(t, srv, insp); !has(missing, "fence", syncproto.MissingPhoto) || has(missing, "material_cover", syncproto.MissingPhoto) {
		t.Errorf("photo moved from fence to material_cover: %+v", missing)
	}

	// Phones pull both fields with the server's HLC ...
	changes, _ := pullAll(t, phone, "", 500)
	ch := latest(changes)[syncproto.EntityInspection+"/"+insp]
	if !strings.Contains(string(ch.Fields["missing_items"]), `{"key":"fence","reason":"photo"}`) ||
		string(ch.Fields["unknown_answers"]) != `["nosuch"]` || !strings.HasSuffix(ch.HLCs["missing_items"], "-"+syncproto.ServerNode) {
		t.Errorf("pulled inspection: missing_items %s @ %s, unknown_answers %s", ch.Fields["missing_items"], ch.HLCs["missing_items"], ch.Fields["unknown_answers"])
	}
	// ... and may not write them.
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("missing_items", []any{}))),
		"rejected/"+syncproto.CodeServerOwnedField)
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("unknown_answers", []any{}))),
		"rejected/"+syncproto.CodeServerOwnedField)

	// Every required item answered (na spares a photo) and both photos
	// there: complete.
	f := []any{}
	for _, k := range []string{"material_cover", "road_paving", "wet_operation", "vehicle_washing", "muck_enclosed", "video_monitor",
		"dusty_work_stopped", "night_work_permit", "muck_truck_permit", "muck_truck_spillage", "muck_dumping"} {
		f = append(f, "answers."+k, map[string]any{"result": "na"})
	}
	answer(append(f, "answers.pm10_reading", map[string]any{"value": 128}, "answers.material_cover", map[string]any{"result": "pass"})...)
	fence := newID()
	data2 := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 12})
	srv.Tus(phone).Upload(fence, "image/jpeg", data2, http.StatusNoContent) // bytes first, record after (sync.md 10.5)
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, fence, apptest.Fields(
		"inspection_id", insp, "item_key", "fence", "sha256", apptest.SHA256(data2), "content_type", "image/jpeg"))), "applied")
	if missing, unknown = completeness(t, srv, insp); len(missing) != 0 || !slices.Equal(unknown, []string{"nosuch"}) {
		t.Errorf("complete inspection: missing %+v unknown %v", missing, unknown)
	}
	if rec, _ := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp); string(rec.Value("missing_items")) != "[]" {
		t.Errorf("complete: missing_items %s, want []", rec.Value("missing_items"))
	}
}

// TestMissingItemsUnknownTemplate: an inspection of a checklist the
// server does not have is kept, and says so.
func TestMissingItemsUnknownTemplate(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	id := newID()
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, id, apptest.Fields(
		"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust", "template_version", 9,
		"answers.fence", map[string]any{"result": "pass"}))), "applied")
	missing, unknown := completeness(t, srv, id)
	if len(missing) != 1 || missing[0] != (syncproto.MissingItem{Key: "construction_dust@9", Reason: syncproto.MissingTemplate}) || len(unknown) != 0 {
		t.Errorf("unknown checklist: missing %+v unknown %v", missing, unknown)
	}
}

// TestUnreadablePhotoIsNoEvidence: a photo whose bytes arrived but that
// the server cannot read as a picture (a file cut short) does not document
// its item: the item is missing its photo as photo_unreadable, until a
// readable photo of it arrives.
func TestUnreadablePhotoIsNoEvidence(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := newInspection(t, phone, apptest.Xinfu)
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields(
		"answers.fence", map[string]any{"result": "pass"}))), "applied")
	photo := func(data []byte) string {
		t.Helper()
		id := newID()
		wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, id, apptest.Fields(
			"inspection_id", insp, "item_key", "fence", "sha256", apptest.SHA256(data), "content_type", "image/jpeg",
			"size_bytes", len(data)))), "applied")
		srv.Tus(phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
		srv.App.Photos.WaitIdle()
		return id
	}
	whole := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 12})
	cut := photo(whole[:len(whole)/2])
	if rec, _ := srv.App.DB.Get(ctx, syncproto.EntityPhoto, cut); !rec.Unreadable() {
		t.Fatalf("the cut photo is not flagged unreadable: %s", rec.Value("flags"))
	}
	if missing, _ := completeness(t, srv, insp); !has(missing, "fence", syncproto.MissingUnreadable) || has(missing, "fence", syncproto.MissingUpload) {
		t.Errorf("fence's only photo unreadable: %+v, want fence photo_unreadable", missing)
	}
	photo(whole)
	if missing, _ := completeness(t, srv, insp); slices.ContainsFunc(missing, func(m syncproto.MissingItem) bool { return m.Key == "fence" }) {
		t.Errorf("fence has a readable photo, still missing: %+v", missing)
	}
}

// TestSiteKindMismatch: an inspection on a checklist that does not apply
// to its site's kind (roadside_truck on a construction site, the
// referential probe) is kept and is incomplete, its missing_items led by
// reason site_kind with the site's kind, while the same checklist at a
// checkpoint is not; a phone may not reclassify a site (immutable_field),
// and an office that does has the site's inspections checked again.
func TestSiteKindMismatch(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	push := func(site, template string, version int) string {
		t.Helper()
		id := newID()
		wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, id, apptest.Fields(
			"site_id", site, "template_id", template, "template_version", version, "status", "draft",
			"started_at", "2026-11-28T09:00:00+08:00"))), "applied")
		return id
	}
	siteKind := func(id string) bool {
		missing, _ := completeness(t, srv, id)
		return slices.ContainsFunc(missing, func(m syncproto.MissingItem) bool { return m.Reason == syncproto.MissingSiteKind })
	}
	dustSite := apptest.DemoSiteOf(t, apptest.Xinfu, "construction_site")
	wrong := push(dustSite, "roadside_truck", 2)
	if missing, _ := completeness(t, srv, wrong); len(missing) == 0 ||
		missing[0] != (syncproto.MissingItem{Key: "roadside_truck@2", Reason: syncproto.MissingSiteKind, Detail: "construction_site"}) {
		t.Errorf("roadside_truck at a construction site: missing %+v", missing)
	}
	dust := push(dustSite, "construction_dust", 1)
	for _, id := range []string{push(apptest.DemoSiteOf(t, apptest.Xinfu, "checkpoint"), "roadside_truck", 2), dust} {
		if siteKind(id) {
			t.Errorf("inspection %s on a checklist for its site is said not to be", id)
		}
	}
	// A phone may not reclassify the site; an office may.
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntitySite, dustSite, apptest.Fields("kind", "checkpoint"))),
		"rejected/"+syncproto.CodeImmutableField)
	if err := srv.App.DB.Update(ctx, func(tx server.WriteTx) error {
		return srv.App.Syncer.Upsert(ctx, tx, syncproto.EntitySite, dustSite, apptest.Xinfu, map[string]any{"kind": "checkpoint"})
	}); err != nil {
		t.Fatal(err)
	}
	if siteKind(wrong) || !siteKind(dust) {
		t.Errorf("the site reclassified as a checkpoint: its roadside inspection does not fit it %v, its dust inspection does %v",
			siteKind(wrong), !siteKind(dust))
	}
}

// TestSiteKindMigration: a database from before the site_kind check
// (migration 031 not applied) has the inspections on a checklist not for
// their site checked again at start, and only those.
func TestSiteKindMigration(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *app.Config) { c.DataDir = dir }
	srv := apptest.Start(t, withDir)
	phone := srv.Login(apptest.Inspector)
	dustSite := apptest.DemoSiteOf(t, apptest.Xinfu, "construction_site")
	wrong, fits := newID(), newID()
	for id, template := range map[string]string{wrong: "roadside_truck", fits: "construction_dust"} {
		wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, id, apptest.Fields(
			"site_id", dustSite, "template_id", template, "template_version", 1, "status", "draft",
			"started_at", "2026-11-28T09:00:00+08:00"))), "applied")
	}
	srv.Stop()
	// As an older build left them: no site_kind (and, to tell which are
	// checked again, nothing missing at all).
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE inspection SET missing_items = '[]', failed_items = '[]'`,
		`DELETE FROM schema_migrations WHERE name = 'migrations/031_site_kind.sql'`} {
		if res, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			t.Fatalf("%s: no row", q)
		}
	}
	raw.Close()

	srv = apptest.Start(t, withDir)
	if missing, _ := completeness(t, srv, wrong); len(missing) == 0 || missing[0].Reason != syncproto.MissingSiteKind {
		t.Errorf("the roadside inspection at a construction site after the upgrade: missing %+v", missing)
	}
	if missing, _ := completeness(t, srv, fits); len(missing) != 0 {
		t.Errorf("an inspection on its site's checklist was checked again: missing %+v", missing)
	}
}
