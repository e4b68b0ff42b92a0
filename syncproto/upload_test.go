package syncproto_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestClientUploadResumes: the Go client uploads part of a photo, loses it
// (a killed app keeps only its Upload record), and resumes from the
// server's offset; a forgotten upload URL is started again.
func TestClientUploadResumes(t *testing.T) {
	ctx := context.Background()
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	insp, photo := uuid.NewString(), uuid.NewString()
	data := testimg.JPEG(testimg.Options{Width: 800, Height: 600, Seed: 5})
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	if _, err := c.Push(ctx, uuid.NewString(), []syncproto.Mutation{
		{Entity: "inspection", ID: insp, HLC: c.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"site_id": raw(apptest.DemoSite(t, "140902")), "template_id": raw("coal_yard"), "template_version": raw(1)}},
		{Entity: "photo", ID: photo, HLC: c.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"inspection_id": raw(insp), "sha256": raw(syncproto.SHA256Hex(data)), "content_type": raw("image/jpeg")}},
	}); err != nil {
		t.Fatal(err)
	}
	u := &syncproto.Upload{PhotoID: photo, ContentType: "image/jpeg"}
	stopAt := len(data) / 3
	cctx, cancel := context.WithCancel(ctx)
	var saved syncproto.Upload
	err := c.UploadPhoto(cctx, u, data, 4096, func(p *syncproto.Upload) {
		saved = *p
		if p.Offset >= int64(stopAt) {
			cancel()
		}
	})
	if err == nil || saved.URL == "" || saved.Offset < int64(stopAt) {
		t.Fatalf("interrupted upload: err %v, saved %+v", err, saved)
	}
	resumeFrom := saved.Offset
	var first int64 = -1
	if err := c.UploadPhoto(ctx, &saved, data, 0, func(p *syncproto.Upload) {
		if first < 0 {
			first = p.Offset
		}
	}); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if saved.Offset != int64(len(data)) || first != int64(len(data)) || resumeFrom == 0 {
		t.Fatalf("resumed upload ended at %d (first progress %d, resumed from %d)", saved.Offset, first, resumeFrom)
	}
	srv.App.Photos.WaitIdle()
	rec, _ := srv.App.DB.Get(ctx, "photo", photo)
	if string(rec.Value("uploaded")) != "true" {
		t.Fatal("photo not marked uploaded")
	}
	gone := &syncproto.Upload{URL: srv.URL + "/api/v1/uploads/0123456789abcdef", PhotoID: photo, ContentType: "image/jpeg"}
	if err := c.UploadPhoto(ctx, gone, data, 0, nil); err != nil || gone.URL == srv.URL+"/api/v1/uploads/0123456789abcdef" {
		t.Fatalf("an unknown upload URL was not restarted: %v %+v", err, gone)
	}
}
