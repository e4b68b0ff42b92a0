package console_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestOwnWorkNotOffered: an office account that pushed an inspection as
// a phone does is offered no review of it — its page says another
// reviewer must judge it, and bulk approval lists it as refused with that
// reason — while another office is offered the review as usual.
func TestOwnWorkNotOffered(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.CountyOffice)
	insp := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields(
		"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust", "template_version", 1,
		"status", "submitted", "started_at", "2026-11-28T09:00:00+08:00", "finished_at", "2026-11-28T10:00:00+08:00")))
	reviewForm := `action="/console/inspections/` + insp + `/review"`

	own := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, own, "/console/inspections/"+insp)
	if strings.Contains(page, reviewForm) || !strings.Contains(page, `id="own-work"`) {
		t.Errorf("its creator's page offers the review (%v) or lacks the notice (%v)", strings.Contains(page, reviewForm), !strings.Contains(page, `id="own-work"`))
	}
	confirm := mustGet(t, own, "/console/bulk?"+url.Values{"id": {insp}}.Encode())
	if strings.Contains(confirm, `name="id" value="`+insp) || !strings.Contains(confirm, "这是您本人创建或修改过的检查记录") {
		t.Errorf("bulk confirmation offers its creator's own inspection, or gives no reason")
	}

	if page := mustGet(t, loggedIn(t, srv, apptest.CityOffice), "/console/inspections/"+insp); !strings.Contains(page, reviewForm) || strings.Contains(page, `id="own-work"`) {
		t.Error("another office is not offered the review")
	}
}

// TestOwnHandNotOffered: nor is an inspection of an inspector's that the
// office account rewrote from its phone session after a return, nor a
// finding whose rectification it reported (the security probe).
func TestOwnHandNotOffered(t *testing.T) {
	srv := apptest.Start(t)
	inspector, office := srv.Login(apptest.Inspector), srv.Login(apptest.CountyOffice)
	insp, finding := uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, inspector, apptest.Mut(inspector, syncproto.EntityInspection, insp, apptest.Fields(
		"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust", "template_version", 1,
		"status", "draft", "started_at", "2026-11-28T09:00:00+08:00", "finished_at", "2026-11-28T10:00:00+08:00")),
		apptest.Mut(inspector, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "fence",
			"description", "东侧围挡缺失", "status", "open")))
	// The office's phone session corrects the finding while it is a draft.
	pullAll(t, office, "")
	apptest.PushApplied(t, office, apptest.Mut(office, syncproto.EntityFinding, finding, apptest.Fields("description", "督查改写")))
	apptest.PushApplied(t, inspector, apptest.Mut(inspector, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	reviewForm := `action="/console/inspections/` + insp + `/review"`

	own := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, own, "/console/inspections/"+insp)
	if strings.Contains(page, reviewForm) || !strings.Contains(page, `id="own-work"`) {
		t.Errorf("the page of an inspection whose finding the office wrote offers the review, or lacks the notice")
	}
	if page := mustGet(t, loggedIn(t, srv, apptest.CityOffice), "/console/inspections/"+insp); !strings.Contains(page, reviewForm) {
		t.Error("another office is not offered the review")
	}
}
