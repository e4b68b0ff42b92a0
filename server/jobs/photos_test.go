package jobs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/server/jobs"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func mutation(c *syncproto.Client, entity, id string, f map[string]any) syncproto.Mutation {
	fields := map[string]json.RawMessage{}
	for k, v := range f {
		b, _ := json.Marshal(v)
		fields[k] = b
	}
	return syncproto.Mutation{Entity: entity, ID: id, Fields: fields, HLC: c.Clock.Now().String()}
}

// TestRealProcessorThroughRiver: a photo uploaded to a server that holds
// its own processing is found unprocessed by the queue's start, and the
// queue's worker processes it with the real photos.Processor: its
// thumbnail is stored and the store lists it as processed.
func TestRealProcessorThroughRiver(t *testing.T) {
	ctx := context.Background()
	pool := openPool(t)
	srv := apptest.Start(t, func(c *app.Config) { c.HoldPhotoProcessing = true })
	phone := srv.Login(apptest.Inspector)
	insp, id := uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, phone, mutation(phone, "inspection", insp, map[string]any{"site_id": apptest.DemoSite(t, "140902"),
		"template_id": "coal_yard", "template_version": 1}))
	taken := time.Now()
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 7, Time: &taken})
	apptest.PushApplied(t, phone, mutation(phone, "photo", id, map[string]any{"inspection_id": insp,
		"sha256": apptest.SHA256(data), "content_type": "image/jpeg"}))
	srv.Tus(phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	if ids, err := srv.App.DB.UnprocessedPhotos(ctx); err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("unprocessed before the queue ran: %v, %v", ids, err)
	}

	q := newRiver(t, pool, srv.App.Photos.Process, jobs.Config{Workers: 1, Unprocessed: srv.App.DB.UnprocessedPhotos})
	start(t, q)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ids, err := srv.App.DB.UnprocessedPhotos(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("photo %s not processed after 30 s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	thumb, err := srv.App.Blobs.Open(ctx, apptest.SHA256(data), "thumbnail")
	if err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
	thumb.Close()
}
