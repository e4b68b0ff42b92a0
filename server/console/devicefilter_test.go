package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestDevicesPageFilters: an administrator finds a device on 同步状态 by
// a person's name, a username, the device's name or its id (shown on its
// row: the command line revokes by it), narrows the list to the devices
// that need someone, and puts the longest silent first; the counts above
// the table stay the whole county's (admin probe: a city's phones were
// one long unsorted list).
func TestDevicesPageFilters(t *testing.T) {
	srv := apptest.Start(t)
	now := time.Now()
	day := 24 * time.Hour
	device := func(username, name string, ago time.Duration) string {
		t.Helper()
		u, _, err := srv.App.DB.UserByUsername(ctx, username)
		if err != nil {
			t.Fatal(err)
		}
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := srv.App.DB.RegisterDevice(ctx, &server.Device{ID: id, UserID: u.ID, Name: name, CreatedAt: now.Add(-ago)}, "hash-"+id, now.Add(30*day)); err != nil {
			t.Fatal(err)
		}
		if err := srv.App.DB.MarkPulled(ctx, id, 0, now.Add(-ago)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	silent := device(apptest.Inspector, "旧手机", 9*day)      // stale: needs someone
	recent := device(apptest.Inspector2, "新手机", time.Hour) // fine
	device(apptest.NingwuInsp, "宁武手机", 5*day)              // stale too

	admin := loggedIn(t, srv, apptest.Admin)
	names := func(query url.Values) (string, []string) {
		t.Helper()
		st, page := admin.get("/console/devices?" + query.Encode())
		if st != http.StatusOK {
			t.Fatalf("%v: %d", query, st)
		}
		var out []string
		for _, row := range tableRows(t, page, "devices") {
			if cells := strings.Split(row, "|"); len(cells) > 2 && cells[2] != "设备" {
				out = append(out, strings.Fields(cells[2])[0])
			}
		}
		return page, out
	}
	page, all := names(nil)
	if !strings.Contains(page, `">`+silent+`</code>`) || len(all) < 3 {
		t.Errorf("the whole list: %v; the silent phone's id is not on its row", all)
	}
	for _, tc := range []struct {
		query url.Values
		want  []string
	}{
		{url.Values{"q": {silent}}, []string{"旧手机"}},
		{url.Values{"q": {strings.ToUpper(recent[len(recent)-8:])}}, []string{"新手机"}},
		{url.Values{"q": {"宁武手"}}, []string{"宁武手机"}},
		{url.Values{"q": {apptest.Inspector2}}, []string{"新手机"}},
		{url.Values{"q": {"没有这台"}}, nil},
		{url.Values{"q": {"宁武\u200b手"}}, []string{"宁武手机"}}, // pasted, a zero-width space in it
		{url.Values{"q": {"ｉｎｓｐｅｃｔｏｒ２"}}, []string{"新手机"}}, // typed in full width
		{url.Values{"q": {"手机"}, "attention": {"1"}}, []string{"旧手机", "宁武手机"}},
		{url.Values{"q": {"手机"}, "sort": {"oldest"}}, []string{"旧手机", "宁武手机", "新手机"}},
	} {
		page, got := names(tc.query)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%v: %v, want %v", tc.query, got, tc.want)
		}
		if !strings.Contains(page, "清除筛选") || !strings.Contains(page, "超过 3 天未同步的设备：<b>") {
			t.Errorf("%v: no way back to the whole list, or the counts are gone", tc.query)
		}
		if len(tc.want) == 0 && !strings.Contains(page, "没有符合筛选条件的设备") {
			t.Errorf("%v: an empty result does not say so", tc.query)
		}
	}
}
