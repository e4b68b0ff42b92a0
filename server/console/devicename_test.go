package console_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestDeviceNameNamesItsOwnerOnce: a device is shown with its owner's
// name after it, unless the name the owner gave it already says who
// (华为 Mate 40 Pro（张巡查）, 张巡查的手机).
func TestDeviceNameNamesItsOwnerOnce(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	device := regexp.MustCompile(`<dt>设备</dt><dd>([^<]*)</dd>`)
	shown := func(name string) string {
		t.Helper()
		phone := srv.NewClient()
		if _, err := phone.Login(context.Background(), apptest.Inspector, apptest.Passwords[apptest.Inspector], name); err != nil {
			t.Fatal(err)
		}
		id := uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "设备名检查站", "plate", "晋H99999", "checked_at", "2026-11-20T10:00:00+08:00")))
		st, page := city.get("/console/vehicles/" + id)
		m := device.FindStringSubmatch(page)
		if st != http.StatusOK || m == nil {
			t.Fatalf("%s: %d, no device in the page", name, st)
		}
		return html.UnescapeString(m[1])
	}
	plain := shown("华为 Mate 40 Pro")
	who := regexp.MustCompile(`^华为 Mate 40 Pro（(.+)）$`).FindStringSubmatch(plain)
	if who == nil {
		t.Fatalf("a device named 华为 Mate 40 Pro is shown as %q, want its owner after it", plain)
	}
	for _, tc := range []struct{ name, want string }{
		{"华为 Mate 40 Pro（" + who[1] + "）", "华为 Mate 40 Pro（" + who[1] + "）"},
		{who[1] + "的手机", who[1] + "的手机"},
		{"手机 " + who[1], "手机 " + who[1]},
		{"小米 14", "小米 14（" + who[1] + "）"},
	} {
		if got := shown(tc.name); got != tc.want {
			t.Errorf("device %q is shown as %q, want %q", tc.name, got, tc.want)
		}
	}
}
