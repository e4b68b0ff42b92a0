package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// phoneAt is srv.NewClient for a phone whose requests come from the
// loopback address ip (127.x.y.z: any of them reaches the server).
func phoneAt(t *testing.T, srv *apptest.Server, ip string) *syncproto.Client {
	c := srv.NewClient()
	c.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: apptest.SpecTransport(t, apptest.TransportFrom(ip))}
	return c
}

// TestKnownPhonePassesTheAccountLock: a sign-in's answer has a
// known_client, which the phone sends with its next sign-in: wrong
// passwords for the account sent from many addresses lock it for phones
// it never signed in on, not for this one; the token survives a
// sign-out, and is not another account's.
func TestKnownPhonePassesTheAccountLock(t *testing.T) {
	srv := apptest.Start(t)
	ctx := context.Background()
	phone := srv.Login(apptest.Inspector)
	if phone.KnownClient == "" {
		t.Fatal("a sign-in's answer has no known_client")
	}
	if err := phone.Do(ctx, http.MethodPost, syncproto.PathLogout, nil, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		_, err := phoneAt(t, srv, "127.0.3."+strconv.Itoa(i+10)).Login(ctx, apptest.Inspector, "wrong guess", "guesser")
		if code := syncproto.ErrorCodeOf(err); code != syncproto.CodeInvalidLogin && code != syncproto.CodeTooManyTries {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	stranger := phoneAt(t, srv, "127.0.4.1")
	if _, err := stranger.Login(ctx, apptest.Inspector, apptest.Passwords[apptest.Inspector], "new phone"); syncproto.ErrorCodeOf(err) != syncproto.CodeTooManyTries {
		t.Errorf("the right password on a phone never signed in on: %v, want too_many_attempts", err)
	}
	other := srv.Login(apptest.Inspector2)
	stranger.KnownClient = other.KnownClient // another account's
	if _, err := stranger.Login(ctx, apptest.Inspector, apptest.Passwords[apptest.Inspector], "new phone"); syncproto.ErrorCodeOf(err) != syncproto.CodeTooManyTries {
		t.Errorf("the right password with another account's known_client: %v, want too_many_attempts", err)
	}
	if _, err := phone.Login(ctx, apptest.Inspector, apptest.Passwords[apptest.Inspector], "test inspector"); err != nil {
		t.Errorf("the owner on their own phone: %v, want signed in", err)
	}
}
