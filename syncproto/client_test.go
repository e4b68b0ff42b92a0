package syncproto_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestClientRetriesBusy: Push and Pull send the same request again after
// 503 server_busy, waiting at least Retry-After (or the backoff, when
// longer), and give up after Attempts with the server's error.
func TestClientRetriesBusy(t *testing.T) {
	const deviceID = "0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57"
	for _, tc := range []struct {
		name       string
		busy       int    // answers 503 before the 200
		retryAfter string // the Retry-After header of each 503
		attempts   int
		wantWaits  []time.Duration
		wantCode   string // the error's code; "" for success
	}{
		{"busy twice", 2, "3", 6, []time.Duration{3 * time.Second, 3 * time.Second}, ""},
		{"backoff outgrows Retry-After", 4, "1", 6, []time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second}, ""},
		{"no Retry-After", 1, "", 6, []time.Duration{500 * time.Millisecond}, ""},
		{"gives up", 5, "2", 3, []time.Duration{2 * time.Second, 2 * time.Second}, syncproto.CodeServerBusy},
	} {
		for _, route := range []string{"push", "pull"} {
			t.Run(tc.name+"/"+route, func(t *testing.T) {
				var mu sync.Mutex
				var seen []string // the batch id or cursor of each request
				calls := 0
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					calls++
					n := calls
					if r.URL.Path == syncproto.PathPush {
						var req syncproto.PushRequest
						b, _ := io.ReadAll(r.Body)
						_ = json.Unmarshal(b, &req)
						seen = append(seen, req.BatchID)
					} else {
						seen = append(seen, r.URL.Query().Get("cursor"))
					}
					mu.Unlock()
					w.Header().Set("Content-Type", "application/json")
					if n <= tc.busy {
						if tc.retryAfter != "" {
							w.Header().Set("Retry-After", tc.retryAfter)
						}
						w.WriteHeader(http.StatusServiceUnavailable)
						_ = json.NewEncoder(w).Encode(syncproto.ErrorBody{Code: syncproto.CodeServerBusy, Message: "服务器繁忙，请稍后重试"})
						return
					}
					if r.URL.Path == syncproto.PathPush {
						_ = json.NewEncoder(w).Encode(syncproto.PushResponse{Results: []syncproto.PushResult{{Status: syncproto.StatusApplied}}})
					} else {
						_ = json.NewEncoder(w).Encode(syncproto.PullResponse{Cursor: "c2", Changes: []syncproto.Change{}})
					}
				}))
				defer srv.Close()
				c := syncproto.NewClient(srv.URL, deviceID)
				c.Attempts = tc.attempts
				var waits []time.Duration
				c.Sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return ctx.Err() }

				var err error
				want := "c1"
				if route == "push" {
					want = "0195f4c0-1a2b-7c3d-8e4f-5a6b7c8d9e0f"
					_, err = c.Push(t.Context(), want, []syncproto.Mutation{{Entity: "site", ID: deviceID, HLC: c.Clock.Now().String()}})
				} else {
					_, err = c.Pull(t.Context(), want, 10)
				}
				if code := syncproto.ErrorCodeOf(err); code != tc.wantCode || (tc.wantCode == "" && err != nil) {
					t.Fatalf("error %v, want code %q", err, tc.wantCode)
				}
				if len(waits) != len(tc.wantWaits) {
					t.Fatalf("waits %v, want %v", waits, tc.wantWaits)
				}
				for i := range waits {
					if waits[i] != tc.wantWaits[i] {
						t.Fatalf("waits %v, want %v", waits, tc.wantWaits)
					}
				}
				if len(seen) != len(waits)+1 {
					t.Fatalf("%d requests for %d waits", len(seen), len(waits))
				}
				for _, s := range seen {
					if s != want {
						t.Fatalf("sent %v, want %s every time", seen, want)
					}
				}
			})
		}
	}
}

// TestClientPullDoesNotRetryPermanent: a 410 resync_required comes back at
// once, without waiting.
func TestClientPullDoesNotRetryPermanent(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusGone)
		_ = json.NewEncoder(w).Encode(syncproto.ErrorBody{Code: syncproto.CodeResyncRequired, Message: "请重新同步"})
	}))
	defer srv.Close()
	c := syncproto.NewClient(srv.URL, "0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57")
	c.Sleep = func(context.Context, time.Duration) error { t.Fatal("waited"); return nil }
	if _, err := c.Pull(t.Context(), "c1", 0); syncproto.ErrorCodeOf(err) != syncproto.CodeResyncRequired || calls != 1 {
		t.Fatalf("error %v after %d calls", err, calls)
	}
}

// TestTemporary: what may succeed sent again unchanged — a network
// failure, 408 request_timeout (sync.md 11), 429, 5xx — and what may not.
func TestTemporary(t *testing.T) {
	for status, want := range map[int]bool{
		http.StatusRequestTimeout: true, http.StatusTooManyRequests: true, http.StatusInternalServerError: true,
		http.StatusServiceUnavailable: true,
		http.StatusBadRequest:         false, http.StatusUnauthorized: false, http.StatusForbidden: false, http.StatusConflict: false,
		http.StatusGone: false, http.StatusRequestEntityTooLarge: false, http.StatusUnprocessableEntity: false,
	} {
		if got := syncproto.Temporary(&syncproto.APIError{Status: status}); got != want {
			t.Errorf("status %d: temporary %v, want %v", status, got, want)
		}
	}
	if syncproto.Temporary(context.Canceled) || !syncproto.Temporary(io.ErrUnexpectedEOF) || syncproto.Temporary(nil) {
		t.Error("a cancelled request is not temporary, a cut connection is, no error is not")
	}
}
