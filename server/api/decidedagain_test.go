package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestDecisionSentAgainAnsweredAsTheFirst (API probe): a review or a
// void sent again as it was — the same decision and comment, with the seq
// it was made on, by the same user — while it is in effect is answered
// 200 with the record as it stands, as the console answers a form sent
// twice: a tool whose answer was lost could not tell its own decision
// from another's (409). Another comment, no seq, or another user is still
// refused 409.
func TestDecisionSentAgainAnsweredAsTheFirst(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	county, city := srv.Login(apptest.CountyOffice), srv.Login(apptest.CityOffice)
	seqOf := func(entity, id string) int64 {
		t.Helper()
		r, err := srv.App.DB.Get(t.Context(), entity, id)
		if err != nil || r == nil {
			t.Fatalf("%s %s: %v", entity, id, err)
		}
		return r.Seq
	}
	decide := func(c *syncproto.Client, path string, req api.ReviewRequest) (syncproto.Change, error) {
		t.Helper()
		var ch syncproto.Change
		err := c.Do(context.WithoutCancel(t.Context()), http.MethodPost, path, req, &ch)
		return ch, err
	}

	insp := newID()
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityInspection, insp, newInspection(apptest.DemoSite(t, xinfu), "draft")))
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityInspection, insp, F{"status": "submitted"}))
	ret := api.ReviewRequest{Decision: "return", Comment: "请补拍围挡", Seq: seqOf(syncproto.EntityInspection, insp)}
	first, err := decide(county, reviewPath(insp), ret)
	if err != nil {
		t.Fatal(err)
	}
	again, err := decide(county, reviewPath(insp), ret)
	if err != nil || again.Seq != first.Seq || string(again.Fields["status"]) != `"returned"` || string(again.Fields["review_comment"]) != `"请补拍围挡"` {
		t.Errorf("the return sent again: %v, seq %d status %s, want 200 with the record as the first left it (seq %d)", err, again.Seq, again.Fields["status"], first.Seq)
	}
	for name, tc := range map[string]struct {
		c   *syncproto.Client
		req api.ReviewRequest
	}{
		"another comment":     {county, api.ReviewRequest{Decision: "return", Comment: "请补拍铭牌", Seq: ret.Seq}},
		"without its seq":     {county, api.ReviewRequest{Decision: "return", Comment: ret.Comment}},
		"another decision":    {county, api.ReviewRequest{Decision: "approve", Seq: ret.Seq}},
		"by another reviewer": {city, ret},
	} {
		if _, err := decide(tc.c, reviewPath(insp), tc.req); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict {
			t.Errorf("the return, then %s: %v, want 409 conflict", name, err)
		}
	}
	if got := seqOf(syncproto.EntityInspection, insp); got != first.Seq {
		t.Errorf("the inspection's seq after the repeats: %d, want %d (nothing written again)", got, first.Seq)
	}

	check := newID()
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityVehicleCheck, check, F{"county": xinfu, "checkpoint": "豆罗检查站",
		"plate": "晋H88888", "checked_at": time.Now().Format(time.RFC3339)}))
	void := api.ReviewRequest{Decision: "void", Comment: "重复录入", Seq: seqOf(syncproto.EntityVehicleCheck, check)}
	path := "/api/v1/vehicle-checks/" + check + "/void"
	if _, err := decide(county, path, void); err != nil {
		t.Fatal(err)
	}
	if ch, err := decide(county, path, void); err != nil || ch.Fields["voided_at"] == nil {
		t.Errorf("the void sent again: %v %s, want 200 with the check voided", err, ch.Fields["voided_at"])
	}
	if _, err := decide(county, path, api.ReviewRequest{Decision: "void", Comment: "录错车牌", Seq: void.Seq}); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict {
		t.Errorf("the void sent again with another reason: %v, want 409 conflict", err)
	}
}
