package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var (
	healthRowRE   = regexp.MustCompile(`<tr(?: class="overdue( stale)?( refused)?")?><td class="person">[^<]*</td><td>([^<]*)</td><td>([^<]*?) <code class="device-id" title="[^"]*">[^<]*</code></td><td>([^<]*)</td><td>([^<]*)</td><td>(\d+)</td><td>([^<]*)((?:<br><span class="[^"]*">[^<]*</span>)*)</td></tr>`)
	healthStaleRE = regexp.MustCompile(`超过 3 天未同步的设备：<b>(\d+)</b> 台`)
)

// healthRow is one row of the sync health page.
type healthRow struct {
	user, lastPull, lastPush, pending, status string
	notes                                     string // what follows the status (what the phone's pushes or pulls lack)
	marked                                    bool   // class="overdue stale"
	refused                                   bool   // class="overdue refused": pushes refused since the last applied
}

// healthPage reads the devices page: its rows by device name, and the
// stale count above the table.
func healthPage(t *testing.T, b *browser) (map[string]healthRow, string) {
	t.Helper()
	st, page := b.get("/console/devices")
	if st != http.StatusOK {
		t.Fatalf("devices: %d\n%s", st, page)
	}
	page = squash(page)
	m := healthStaleRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no stale count on the devices page\n%s", page)
	}
	rows := map[string]healthRow{}
	for _, r := range healthRowRE.FindAllStringSubmatch(page, -1) {
		if _, dup := rows[r[4]]; dup {
			t.Fatalf("two devices named %q", r[4])
		}
		rows[r[4]] = healthRow{marked: r[1] != "", refused: r[2] != "", user: r[3], lastPull: r[5], lastPush: r[6], pending: r[7], status: r[8], notes: r[9]}
	}
	return rows, m[1]
}

// pullsBehind is what the sync health page says after the status of a
// phone that pushes but has not pulled for three days.
const pullsBehind = `<br><span class="warn pulls-behind">超过 3 天未下载：审核意见、退回和点位更新到不了这部手机</span>`

// healthPhone is a device client with a chosen id, checked against the API
// spec like apptest's clients.
func healthPhone(srv *apptest.Server, id string) *syncproto.Client {
	c := syncproto.NewClient(srv.URL, id)
	c.HTTP = srv.HTTPClient()
	c.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	return c
}

// TestDevicesSyncHealth: on the sync health page a device whose newest of
// registration, last pull and last push is more than 3 days old is marked
// (row class "overdue stale", status 超过 3 天未同步) and counted above the
// table; a device that pulled or pushed within 3 days, has been revoked,
// or whose user is disabled (账号已停用), is not. Waiting uploads count the device's photo records whose bytes
// have not arrived. A county office sees only devices of its county's
// users; the city office sees all.
//
// Phones log in, pull, push and upload through the API. The server stamps
// those with its own clock, so devices that went quiet days ago are
// registered through the store's RegisterDevice with an old creation time
// and their last pull is set with MarkPulled, the store's public methods
// the login and pull paths use.
func TestDevicesSyncHealth(t *testing.T) {
	srv := apptest.Start(t)
	now := time.Now()
	cst := time.FixedZone("CST", 8*3600)
	day := 24 * time.Hour

	userID := func(username string) string {
		u, _, err := srv.App.DB.UserByUsername(ctx, username)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	// registered adds a device that logged in long ago (as Login does).
	registered := func(username, name string, ago time.Duration) string {
		id := uuid.Must(uuid.NewV7()).String()
		d := &server.Device{ID: id, UserID: userID(username), Name: name, CreatedAt: now.Add(-ago)}
		if _, err := srv.App.DB.RegisterDevice(ctx, d, "hash-"+id, now.Add(30*day)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	markPulled := func(id string, at time.Time) {
		if err := srv.App.DB.MarkPulled(ctx, id, 0, at); err != nil {
			t.Fatal(err)
		}
	}
	// login signs a device in through the API (a device registered before
	// keeps its creation time).
	login := func(id, username, name string) *syncproto.Client {
		c := healthPhone(srv, id)
		if _, err := c.Login(ctx, username, apptest.Passwords[username], name); err != nil {
			t.Fatalf("login %s: %v", name, err)
		}
		return c
	}
	pull := func(c *syncproto.Client) {
		if _, err := c.Pull(ctx, "", 1); err != nil {
			t.Fatal(err)
		}
	}
	fmtT := func(t time.Time) string { return t.In(cst).Format("2006-01-02 15:04") }

	type want struct {
		user     string
		stale    bool
		status   string
		pending  string
		lastPull string // "" : any time (stamped by the server during the test)
		lastPush string
		county   bool // visible to the 忻府区 county office
		refused  bool
		notes    string // said after the status ("": nothing)
	}
	type device struct {
		name  string
		setup func(name string) // makes the device's state
		want  want
	}
	var freshPhone *syncproto.Client
	var waiting, arrived string // photo ids on the fresh phone
	pulled4d, pulled71h, pulled73h := now.Add(-4*day), now.Add(-71*time.Hour), now.Add(-73*time.Hour)
	devices := []device{
		{"新手机", func(name string) {
			// Logs in now, pulls, and pushes an inspection with two photos,
			// of which one is uploaded.
			freshPhone = login(uuid.Must(uuid.NewV7()).String(), apptest.Inspector, name)
			pull(freshPhone)
			insp := submit(t, freshPhone, apptest.Xinfu)
			for i, id := range []*string{&waiting, &arrived} {
				*id = uuid.NewString()
				data := testimg.JPEG(testimg.Options{Seed: uint64(7 + i)})
				apptest.PushApplied(t, freshPhone, syncproto.Mutation{Entity: syncproto.EntityPhoto, ID: *id, HLC: freshPhone.Clock.Now().String(),
					Fields: apptest.Fields("inspection_id", insp, "item_key", "fence", "sha256", apptest.SHA256(data), "content_type", "image/jpeg",
						"size_bytes", len(data), "captured_at", "2026-11-28T09:05:00+08:00")})
				if id == &arrived {
					srv.Tus(freshPhone).Upload(*id, "image/jpeg", data, http.StatusNoContent)
				}
			}
		}, want{user: apptest.Inspector, status: "照片待上传", pending: "1", county: true}},
		{"旧手机刚拉取", func(name string) {
			// Registered 10 days ago, pulled through the API just now.
			pull(login(registered(apptest.Inspector2, name, 10*day), apptest.Inspector2, name))
		}, want{user: apptest.Inspector2, status: "正常", pending: "0", lastPush: "从未", county: true}},
		{"旧手机刚上传", func(name string) {
			// Registered 10 days ago, last pulled 5 days ago, pushed just now.
			id := registered(apptest.Inspector2, name, 10*day)
			c := login(id, apptest.Inspector2, name)
			markPulled(id, now.Add(-5*day))
			submit(t, c, apptest.Xinfu)
		}, want{user: apptest.Inspector2, status: "需处理", pending: "0", lastPull: fmtT(now.Add(-5 * day)), county: true, notes: pullsBehind}},
		{"71小时前拉取", func(name string) {
			markPulled(registered(apptest.Inspector2, name, 10*day), pulled71h)
		}, want{user: apptest.Inspector2, status: "正常", pending: "0", lastPull: fmtT(pulled71h), lastPush: "从未", county: true}},
		{"73小时前拉取", func(name string) {
			markPulled(registered(apptest.Inspector, name, 10*day), pulled73h)
		}, want{user: apptest.Inspector, stale: true, status: "超过 3 天未同步", pending: "0", lastPull: fmtT(pulled73h), lastPush: "从未", county: true}},
		{"注册后从未同步", func(name string) {
			registered(apptest.Inspector2, name, 5*day)
		}, want{user: apptest.Inspector2, stale: true, status: "从未同步（超过 3 天）", pending: "0", lastPull: "从未", lastPush: "从未", county: true}},
		{"已吊销旧手机", func(name string) {
			// Quiet for 10 days, then revoked from the users page.
			id := registered(apptest.Inspector, name, 10*day)
			admin := loggedIn(t, srv, apptest.Admin)
			_, page := admin.get("/console/users")
			if st, page := admin.post("/console/devices/"+id+"/revoke", url.Values{"csrf": {csrf(t, page)}, "confirm": {"1"}}); st != http.StatusOK {
				t.Fatalf("revoke: %d\n%s", st, page)
			}
		}, want{user: apptest.Inspector, status: "已吊销", pending: "0", lastPull: "从未", lastPush: "从未", county: true}},
		{"停用账号的旧手机", func(name string) {
			// Quiet for 10 days, its user then disabled: not expected to
			// sync, so not counted stale, and said why (the search probe).
			if _, err := srv.App.AddUser(ctx, "laowang", "Xinzhou#2026pw", "王巡查", server.RoleInspector, []string{apptest.Xinfu}); err != nil {
				t.Fatal(err)
			}
			registered("laowang", name, 10*day)
			if err := srv.App.DB.SetUserDisabled(ctx, "laowang", true); err != nil {
				t.Fatal(err)
			}
		}, want{user: "laowang", status: "账号已停用", pending: "0", lastPull: "从未", lastPush: "从未", county: true}},
		{"上传被拒的手机", func(name string) {
			// Pulls, but its last push was refused whole (the refusal
			// probe: it looked well).
			id := registered(apptest.Inspector, name, 10*day)
			markPulled(id, now)
			if err := srv.App.DB.MarkPushRefused(ctx, id, server.RefusedPush{At: now.Add(-time.Hour), Code: syncproto.CodeUnknownField, Message: "请求中有未知字段 extra"}); err != nil {
				t.Fatal(err)
			}
		}, want{user: apptest.Inspector, refused: true, status: "上传被拒 · " + fmtT(now.Add(-time.Hour)) + "：请求中有未知字段 extra（错误代码 unknown_field）",
			pending: "0", lastPush: "从未", county: true}},
		{"被拒后又上传成功", func(name string) {
			id := registered(apptest.Inspector2, name, 10*day)
			c := login(id, apptest.Inspector2, name)
			if err := srv.App.DB.MarkPushRefused(ctx, id, server.RefusedPush{At: now.Add(-time.Hour), Code: syncproto.CodeBadRequest, Message: "请求体不是合法的 JSON"}); err != nil {
				t.Fatal(err)
			}
			submit(t, c, apptest.Xinfu)
		}, want{user: apptest.Inspector2, status: "需处理", pending: "0", lastPull: "从未", county: true, notes: pullsBehind}},
		{"宁武4天前拉取", func(name string) {
			markPulled(registered(apptest.NingwuInsp, name, 10*day), pulled4d)
		}, want{user: apptest.NingwuInsp, stale: true, status: "超过 3 天未同步", pending: "0", lastPull: fmtT(pulled4d), lastPush: "从未"}},
		{"宁武新手机", func(name string) {
			pull(login(uuid.Must(uuid.NewV7()).String(), apptest.NingwuInsp, name))
		}, want{user: apptest.NingwuInsp, status: "正常", pending: "0", lastPush: "从未"}},
	}
	for _, d := range devices {
		d.setup(d.name)
	}
	if server.StaleAfter != 72*time.Hour {
		t.Errorf("StaleAfter = %v, the page says 3 days", server.StaleAfter)
	}

	for _, viewer := range []string{apptest.CountyOffice, apptest.CityOffice} {
		rows, count := healthPage(t, loggedIn(t, srv, viewer))
		wantStale := 0
		for _, d := range devices {
			r, shown := rows[d.name]
			if viewer == apptest.CountyOffice && !d.want.county {
				if shown {
					t.Errorf("%s sees %s, a device of another county", viewer, d.name)
				}
				continue
			}
			if !shown {
				t.Errorf("%s: device %s is not listed", viewer, d.name)
				continue
			}
			if d.want.stale {
				wantStale++
			}
			w := d.want
			if r.notes != w.notes {
				t.Errorf("%s: %s: said after the status %q, want %q", viewer, d.name, r.notes, w.notes)
			}
			if r.marked != w.stale || r.refused != w.refused || r.status != w.status || r.user != w.user || r.pending != w.pending {
				t.Errorf("%s: %s: marked %v, refused %v, status %q, user %q, pending %s; want marked %v, refused %v, %q, %q, %s",
					viewer, d.name, r.marked, r.refused, r.status, r.user, r.pending, w.stale, w.refused, w.status, w.user, w.pending)
			}
			if (w.lastPull != "" && r.lastPull != w.lastPull) || (w.lastPull == "" && r.lastPull == "从未") {
				t.Errorf("%s: %s: last pull %q, want %q", viewer, d.name, r.lastPull, w.lastPull)
			}
			if (w.lastPush != "" && r.lastPush != w.lastPush) || (w.lastPush == "" && r.lastPush == "从未") {
				t.Errorf("%s: %s: last push %q, want %q", viewer, d.name, r.lastPush, w.lastPush)
			}
		}
		marked := 0
		for _, r := range rows {
			if r.marked {
				marked++
			}
		}
		if count != strconv.Itoa(wantStale) || marked != wantStale {
			t.Errorf("%s: stale count %s with %d rows marked, want %d", viewer, count, marked, wantStale)
		}
	}

	// The refused phone is counted above the table and on the overview.
	office := loggedIn(t, srv, apptest.CountyOffice)
	for _, pg := range []struct{ path, want string }{
		{"/console/devices", `<b id="refused-count">1</b> 台`},
		{"/console/overview", `<b id="kpi-refused">1</b> 台上传被拒`},
	} {
		if _, page := office.get(pg.path); !strings.Contains(squash(page), pg.want) {
			t.Errorf("%s lacks %s", pg.path, pg.want)
		}
	}

	// Once the waiting photo's bytes arrive, nothing waits on the fresh
	// phone.
	data := testimg.JPEG(testimg.Options{Seed: 7})
	srv.Tus(freshPhone).Upload(waiting, "image/jpeg", data, http.StatusNoContent)
	rows, _ := healthPage(t, loggedIn(t, srv, apptest.CountyOffice))
	if r := rows["新手机"]; r.pending != "0" || strings.Contains(r.status, "超过") {
		t.Errorf("after the upload: %+v, want 0 waiting", r)
	}
}
