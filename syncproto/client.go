package syncproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// APIError is an error answer from the server.
type APIError struct {
	Status     int
	Body       ErrorBody
	RetryAfter time.Duration
	// Foreign is set when the answer was not a fieldsync error body (a
	// web page: a wrong address, a proxy in the server's stead, a Wi-Fi
	// sign-in page); Body.Code is then internal and Body.Message the
	// HTTP status.
	Foreign bool
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Foreign {
		return fmt.Sprintf("fieldsync: 服务器地址的回答不是 fieldsync 服务器的（%s）：请检查地址（只需协议、主机和端口，如 http://10.0.0.5:8080），或网络是否要求先登录", e.Body.Message)
	}
	return fmt.Sprintf("fieldsync: %d %s: %s", e.Status, e.Body.Code, e.Body.Message)
}

// ErrorCodeOf returns the server's error code carried by err, or "".
func ErrorCodeOf(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Body.Code
	}
	return ""
}

// Temporary reports whether a request that failed with err may succeed if
// sent again unchanged: network failures, 5xx, 429, and 408
// request_timeout (the body arrived too slowly: nothing of it was kept;
// sync.md 11).
func Temporary(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusRequestTimeout
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// Client is a device's connection to a fieldsync server: it signs in,
// refreshes its access token when it expires, pulls pages until done, and
// pushes batches with retries that are safe because a batch id makes them
// idempotent. It advances its HLC from every server_hlc it sees.
type Client struct {
	BaseURL  string
	HTTP     *http.Client
	DeviceID string
	Clock    *Clock
	// Attempts is how many times Push sends a batch, and Pull asks for a
	// page, before giving up on a temporary error; Backoff the first wait,
	// doubled each time (or the server's Retry-After, when longer).
	Attempts int
	Backoff  time.Duration
	// MaxWait, when set, is the longest wait before another attempt: a
	// server asking for a longer one (Retry-After: its storage full, a
	// minute) ends the retries with its error at once, for a caller that
	// tries again later rather than hold its user. Zero waits as asked.
	MaxWait time.Duration
	// OnRetry, if set, is told of every wait before another attempt: the
	// temporary error, the wait, and the attempt to come (from 2) of
	// Attempts — a command line shows it rather than sit silent.
	OnRetry func(err error, wait time.Duration, attempt, attempts int)
	// Sleep waits between attempts (replaceable in tests).
	Sleep func(ctx context.Context, d time.Duration) error
	// OnTokens, if set, is called with every new token pair, so an app can
	// persist them (and KnownClient, when a sign-in's answer has one).
	OnTokens func(*TokenResponse)
	// KnownClient is the known_client of the last sign-in's answer,
	// which Login sends: the account's failed sign-ins from elsewhere do
	// not hold this device back (sync.md §2). An app keeps it with its
	// tokens, and through sign-outs.
	KnownClient string
	// PullForm is the wire form Pull asks for: "" for the compact page
	// (FormCompact, the fewest bytes; its changes carry no Seq), or
	// HLCsGrouped for changes in feed order with their Seq. Either way
	// Pull returns changes with per-field HLCs.
	PullForm string
	// olderServer is set once the server has refused the compact form.
	olderServer atomic.Bool

	mu            sync.Mutex
	access, renew string
	// dated is the server's physical time by the last answer's Date
	// header and the device's (uncorrected) time it was read for, when
	// the answer came back within maxDatedRTT (CorrectClock); guarded
	// by mu.
	dated struct{ server, device time.Time }
	// refreshing lets one refresh run at a time: the server takes a spent
	// refresh token presented again as stolen and ends the session.
	refreshing sync.Mutex
}

// NewClient returns a client for the device.
func NewClient(baseURL, deviceID string) *Client {
	return &Client{BaseURL: baseURL, HTTP: &http.Client{Timeout: 60 * time.Second}, DeviceID: deviceID,
		Clock: NewClock(deviceID, nil), Attempts: 6, Backoff: 500 * time.Millisecond, Sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SetTokens installs saved tokens (an app restarting).
func (c *Client) SetTokens(access, refresh string) {
	c.mu.Lock()
	c.access, c.renew = access, refresh
	c.mu.Unlock()
}

// Tokens returns the current access and refresh tokens.
func (c *Client) Tokens() (access, refresh string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.access, c.renew
}

// Login signs in and registers this device.
func (c *Client) Login(ctx context.Context, username, password, deviceName string) (*TokenResponse, error) {
	var tr TokenResponse
	err := c.do(ctx, http.MethodPost, PathLogin, &LoginRequest{Username: username, Password: password, DeviceID: c.DeviceID, DeviceName: deviceName,
		KnownClient: c.KnownClient}, &tr, false)
	if err != nil {
		return nil, err
	}
	c.setTokens(&tr)
	return &tr, nil
}

func (c *Client) setTokens(tr *TokenResponse) {
	c.SetTokens(tr.AccessToken, tr.RefreshToken)
	if tr.KnownClient != "" {
		c.KnownClient = tr.KnownClient
	}
	if c.OnTokens != nil {
		c.OnTokens(tr)
	}
}

// ChangePassword sets the signed-in user's own password (current checked)
// and takes the device's new tokens from the answer: the user's other
// sessions end, this one goes on (POST /api/v1/auth/password).
func (c *Client) ChangePassword(ctx context.Context, current, next string) (*TokenResponse, error) {
	var tr TokenResponse
	if err := c.Do(ctx, http.MethodPost, PathPassword, &PasswordRequest{CurrentPassword: current, NewPassword: next}, &tr); err != nil {
		return nil, err
	}
	c.setTokens(&tr)
	return &tr, nil
}

// Refresh exchanges the refresh token for a new pair. Refreshes run one at a
// time. If it fails without an answer (a lost response), the refresh token
// may be spent already: sign in again rather than retry it.
func (c *Client) Refresh(ctx context.Context) error {
	c.refreshing.Lock()
	defer c.refreshing.Unlock()
	return c.refresh(ctx)
}

// refreshAfter refreshes unless another request did since stale, the
// access token that was found expired, was sent.
func (c *Client) refreshAfter(ctx context.Context, stale string) error {
	c.refreshing.Lock()
	defer c.refreshing.Unlock()
	if access, _ := c.Tokens(); access != stale {
		return nil
	}
	return c.refresh(ctx)
}

func (c *Client) refresh(ctx context.Context) error {
	_, renew := c.Tokens()
	var tr TokenResponse
	if err := c.do(ctx, http.MethodPost, PathRefresh, &RefreshRequest{RefreshToken: renew}, &tr, false); err != nil {
		return err
	}
	c.setTokens(&tr)
	return nil
}

// Me returns the signed-in user.
func (c *Client) Me(ctx context.Context) (*User, error) {
	var u User
	return &u, c.Do(ctx, http.MethodGet, PathMe, nil, &u)
}

// Pull fetches one page of changes after cursor, retrying temporary
// failures (503 server_busy among them) with the same cursor as Push does.
// The page comes in c.PullForm and is expanded here, so the caller sees
// per-field HLCs as always. A server older than the compact form answers
// it bad_request; the client then asks that page, and those after, with
// hlcs=grouped.
func (c *Client) Pull(ctx context.Context, cursor string, limit int) (*PullResponse, error) {
	grouped := c.PullForm == HLCsGrouped || c.olderServer.Load()
	pr, err := c.pull(ctx, cursor, limit, grouped)
	var ae *APIError
	if err != nil && !grouped && errors.As(err, &ae) && ae.Body.Code == CodeBadRequest {
		if pr, err = c.pull(ctx, cursor, limit, true); err == nil {
			c.olderServer.Store(true) // not a refusal of the request itself
		}
	}
	return pr, err
}

// OlderServer reports whether the server refused the compact form, so
// Pull now asks for hlcs=grouped.
func (c *Client) OlderServer() bool { return c.olderServer.Load() }

func (c *Client) pull(ctx context.Context, cursor string, limit int, grouped bool) (*PullResponse, error) {
	q := url.Values{}
	if grouped {
		q.Set("hlcs", HLCsGrouped)
	} else {
		q.Set("form", FormCompact)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := PathPull + "?" + q.Encode()
	var pr *PullResponse
	err := c.retry(ctx, func() error {
		if grouped {
			pr = &PullResponse{}
			return c.Do(ctx, http.MethodGet, path, nil, pr)
		}
		var cp CompactPage
		if err := c.Do(ctx, http.MethodGet, path, nil, &cp); err != nil {
			return err
		}
		var err error
		pr, err = cp.Response()
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range pr.Changes {
		ch := &pr.Changes[i]
		ch.ExpandHLCs()
		for _, h := range ch.HLCs {
			if hlc, err := ParseHLC(h); err == nil {
				c.Clock.Observe(hlc)
			}
		}
		if hlc, err := ParseHLC(ch.DeletedHLC); err == nil && ch.Deleted {
			c.Clock.Observe(hlc)
		}
	}
	return pr, nil
}

// PullAll pulls pages from cursor until has_more is false, handing each page
// to apply before asking for the next, and returns the final cursor. The
// device should store the cursor only after apply has stored the page, so a
// crash repeats a page rather than skipping one. If the server answers
// resync_required, PullAll returns that error: the device must pull again
// from the empty cursor (keeping its unsent local changes).
func (c *Client) PullAll(ctx context.Context, cursor string, limit int, apply func(*PullResponse) error) (string, error) {
	for {
		pr, err := c.Pull(ctx, cursor, limit)
		if err != nil {
			return cursor, err
		}
		if err := apply(pr); err != nil {
			return cursor, err
		}
		cursor = pr.Cursor
		if !pr.HasMore {
			return cursor, nil
		}
	}
}

// Push sends one batch, retrying temporary failures with the same batch id
// (so the server applies it once however often it arrives).
func (c *Client) Push(ctx context.Context, batchID string, mutations []Mutation) (*PushResponse, error) {
	req := &PushRequest{DeviceID: c.DeviceID, BatchID: batchID, Mutations: mutations}
	var resp PushResponse
	if err := c.retry(ctx, func() error { resp = PushResponse{}; return c.Do(ctx, http.MethodPost, PathPush, req, &resp) }); err != nil {
		return nil, err
	}
	return &resp, nil
}

// retry calls send, the same request each time, until it succeeds, fails
// for good, or Attempts calls were made: after a temporary failure (a
// network error, 5xx such as 503 server_busy, 429) it waits Backoff,
// doubled after each attempt, or the server's Retry-After when that is
// longer (past MaxWait, it stops).
func (c *Client) retry(ctx context.Context, send func() error) error {
	sleep := c.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	backoff := c.Backoff
	for attempt := 1; ; attempt++ {
		err := send()
		if err == nil || attempt >= c.Attempts || !Temporary(err) {
			return err
		}
		wait := backoff
		var ae *APIError
		if errors.As(err, &ae) && ae.RetryAfter > wait {
			wait = ae.RetryAfter
		}
		if c.MaxWait > 0 && wait > c.MaxWait {
			return err
		}
		if c.OnRetry != nil {
			c.OnRetry(err, wait, attempt+1, c.Attempts)
		}
		if serr := sleep(ctx, wait); serr != nil {
			return serr
		}
		backoff *= 2
	}
}

// CorrectClock adjusts the device clock after the server refused a
// mutation with clock_skew: physical time is offset to match the server's,
// and the HLC restarts from there. Mutations stamped before must be
// re-stamped before they are sent again.
//
// The server's physical time is its HLC's, unless the answer's Date
// (whole seconds) puts it more than maxHLCLead behind: a server's HLC
// may run ahead of its physical time (it never goes back, and a host
// clock can be set back), and a phone that took that for the time would
// stamp past it and be refused again, and date its records wrong. Its
// stamps then follow the observed HLC, which the server takes.
func (c *Client) CorrectClock(serverHLC string) error {
	h, err := ParseHLC(serverHLC)
	if err != nil {
		return err
	}
	c.mu.Lock()
	dated := c.dated
	c.mu.Unlock()
	c.Clock.mu.Lock()
	c.Clock.offset = 0
	device := c.Clock.now()
	c.Clock.offset = time.Duration(h.Wall-c.Clock.physical()) * time.Millisecond
	if fresh := device.Sub(dated.device); !dated.server.IsZero() && fresh >= 0 && fresh < time.Minute &&
		h.Wall-dated.server.UnixMilli() > maxHLCLead.Milliseconds() {
		c.Clock.offset = dated.server.Sub(dated.device)
	}
	c.Clock.last = HLC{}
	c.Clock.mu.Unlock()
	c.Clock.Observe(h)
	return nil
}

// maxHLCLead is how far the server's HLC may be ahead of its time by its
// Date header and still be taken for its physical time (CorrectClock),
// which it then gives to the millisecond: a Date has whole seconds, read
// within maxDatedRTT/2 of the moment taken for it.
const maxHLCLead = 3 * time.Second

// maxDatedRTT is the longest round trip whose answer's Date is kept for
// CorrectClock: the server's time was then within it of the moment taken.
const maxDatedRTT = 4 * time.Second

// noteDate keeps the server's time by an answer's Date header, read for
// the device time half-way between sent and back (uncorrected).
func (c *Client) noteDate(date string, sent, back time.Time) {
	t, err := http.ParseTime(date)
	if err != nil || back.Sub(sent) > maxDatedRTT {
		return
	}
	c.mu.Lock()
	c.dated.server, c.dated.device = t.Add(500*time.Millisecond), sent.Add(back.Sub(sent)/2)
	c.mu.Unlock()
}

// Do sends an authenticated request, refreshing the access token once if
// the server says it expired (requests that find it expired together share
// one refresh).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	sent, _ := c.Tokens()
	err := c.do(ctx, method, path, in, out, true)
	if ErrorCodeOf(err) == CodeTokenExpired {
		if rerr := c.refreshAfter(ctx, sent); rerr != nil {
			return rerr
		}
		err = c.do(ctx, method, path, in, out, true)
	}
	return err
}

func (c *Client) do(ctx context.Context, method, path string, in, out any, authed bool) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authed {
		access, _ := c.Tokens()
		req.Header.Set("Authorization", "Bearer "+access)
	}
	sent := c.Clock.now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	c.noteDate(resp.Header.Get("Date"), sent, c.Clock.now())
	if h, err := ParseHLC(resp.Header.Get(HeaderServerHLC)); err == nil && !h.IsZero() {
		c.Clock.Observe(h)
	}
	if resp.StatusCode >= 300 {
		ae := &APIError{Status: resp.StatusCode}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ae.Body); err != nil {
			ae.Body, ae.Foreign = ErrorBody{Code: CodeInternal, Message: resp.Status}, true
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			ae.RetryAfter = time.Duration(s) * time.Second
		}
		return ae
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
