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
	if strings.Contains(confirm, `name="id" value="`+insp) || !strings.Contains(confirm, "这是您本人创建的检查记录") {
		t.Errorf("bulk confirmation offers its creator's own inspection, or gives no reason")
	}

	if page := mustGet(t, loggedIn(t, srv, apptest.CityOffice), "/console/inspections/"+insp); !strings.Contains(page, reviewForm) || strings.Contains(page, `id="own-work"`) {
		t.Error("another office is not offered the review")
	}
}
