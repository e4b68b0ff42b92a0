package device_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/device"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestKnownDeviceSignsInDespiteGuesses: the device keeps its sign-in's
// known_client, through a sign-out and a restart, and signs in with it
// once guesses from many addresses have locked the account for devices
// it never signed in on.
func TestKnownDeviceSignsInDespiteGuesses(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	dir := t.TempDir()
	open := func(dir string) *device.Device {
		d, err := device.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		d.HTTP = srv.HTTPClient()
		d.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
		return d
	}
	d := open(dir)
	if _, err := d.Login(ctx, srv.URL, apptest.Inspector, apptest.Passwords[apptest.Inspector]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	d.Close()
	for i := range 25 {
		g := srv.NewClient()
		g.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: apptest.TransportFrom("127.0.5." + strconv.Itoa(i+10))}
		if _, err := g.Login(ctx, apptest.Inspector, "wrong guess", "guesser"); syncproto.ErrorCodeOf(err) != syncproto.CodeInvalidLogin && syncproto.ErrorCodeOf(err) != syncproto.CodeTooManyTries {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	stranger := open(t.TempDir())
	defer stranger.Close()
	if _, err := stranger.Login(ctx, srv.URL, apptest.Inspector, apptest.Passwords[apptest.Inspector]); syncproto.ErrorCodeOf(err) != syncproto.CodeTooManyTries {
		t.Errorf("a device never signed in on: %v, want too_many_attempts", err)
	}
	d = open(dir) // restarted
	defer d.Close()
	if _, err := d.Login(ctx, srv.URL, apptest.Inspector, apptest.Passwords[apptest.Inspector]); err != nil {
		t.Errorf("the device signed in on before, after a sign-out and a restart: %v, want signed in", err)
	}
}
