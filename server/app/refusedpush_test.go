package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestRefusedPushInHealth: a push refused whole — whatever made the
// server refuse it — is in the device's sync health (GET devices,
// last_push_refused) with its code and message, until a push is applied
// again; a phone that pulls but cannot push no longer looks well.
func TestRefusedPushInHealth(t *testing.T) {
	// The server's clock steps a second between requests, so that a
	// refusal is told apart from the push before it by its time.
	var later atomic.Int64
	srv := apptest.Start(t, func(c *app.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
		c.MaxPushBytes = 64 << 10
	})
	phone := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	health := func() api.DeviceInfo { t.Helper(); return deviceInfo(t, office, phone.DeviceID) }
	if h := health(); h.LastPushRefused != nil {
		t.Fatalf("a refused push before any: %+v", h.LastPushRefused)
	}
	access, _ := phone.Tokens()
	post := func(body string) (int, string) {
		t.Helper()
		later.Add(int64(time.Second))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+syncproto.PathPush, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Code string `json:"code"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Code
	}
	site := func(batch, name string) string {
		b, _ := json.Marshal(map[string]any{"device_id": phone.DeviceID, "batch_id": batch, "mutations": []map[string]any{{
			"entity": "site", "id": uuid.NewString(), "hlc": phone.Clock.Now().String(),
			"fields": map[string]any{"county": apptest.Xinfu, "kind": "road", "name": name}}}})
		return string(b)
	}
	batch := uuid.NewString()
	first := site(batch, "甲")
	if status, _ := post(first); status != http.StatusOK {
		t.Fatalf("a good push: %d", status)
	}
	for _, tc := range []struct{ name, body, code string }{
		{"malformed JSON", `{"device_id": "` + phone.DeviceID + `", "mutations": [`, syncproto.CodeBadRequest},
		{"unknown member", strings.Replace(site(uuid.NewString(), "乙"), `{"batch_id"`, `{"extra": 1, "batch_id"`, 1), syncproto.CodeUnknownField},
		{"batch id reused with other content", site(batch, "丙"), syncproto.CodeBatchMismatch},
		{"another device's id", strings.Replace(site(uuid.NewString(), "丁"), phone.DeviceID, uuid.NewString(), 1), syncproto.CodeDeviceMismatch},
		// Refused by its Content-Length, before a byte of it is read.
		{"too large a body", site(uuid.NewString(), strings.Repeat("大", 30<<10)), syncproto.CodeBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, code := post(tc.body); status/100 != 4 || code != tc.code {
				t.Fatalf("push answered %d %s, want 4xx %s", status, code, tc.code)
			}
			h := health()
			r := h.LastPushRefused
			if r == nil || r.Code != tc.code || r.Message == "" || h.LastPushAt == nil || !r.At.After(*h.LastPushAt) {
				t.Errorf("health after the refusal: refused %+v, last push %v; want %s, later than the last push", r, h.LastPushAt, tc.code)
			}
		})
	}
	// A body that does not arrive whole (the connection dropped) is no
	// refusal: the phone never read the answer, and sends it again.
	refused := health().LastPushRefused
	later.Add(int64(time.Second))
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n%s",
		syncproto.PathPush, access, site(uuid.NewString(), "己")[:60])
	if cw, ok := conn.(*net.TCPConn); ok {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, conn) // the server's answer, once it has given up on the body
	conn.Close()
	if h := health(); h.LastPushRefused == nil || !h.LastPushRefused.At.Equal(refused.At) {
		t.Errorf("a body cut short was recorded: %+v, want the earlier refusal %+v", h.LastPushRefused, refused)
	}
	// A batch sent again whose answer was lost (replayed) is a push that
	// went through: the refusal before it is over.
	if status, _ := post(first); status != http.StatusOK {
		t.Fatalf("the first batch sent again: %d", status)
	}
	if h := health(); h.LastPushRefused == nil || h.LastPushAt == nil || !h.LastPushAt.After(h.LastPushRefused.At) {
		t.Errorf("after a replayed push: last push %v, refused %+v; want the push later, the refusal still on record", h.LastPushAt, h.LastPushRefused)
	}
}

// deviceInfo is a device's sync health as an office reads it (GET
// devices).
func deviceInfo(t *testing.T, office *syncproto.Client, id string) api.DeviceInfo {
	t.Helper()
	var out struct {
		Devices []api.DeviceInfo `json:"devices"`
	}
	if err := office.Do(ctx, http.MethodGet, "/api/v1/devices", nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Devices {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("device %s is not listed: %+v", id, out.Devices)
	return api.DeviceInfo{}
}
