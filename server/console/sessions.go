package console

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// SessionTTL is how long a console session lasts without use (the idle
// limit).
const SessionTTL = 8 * time.Hour

// SessionMaxAge is how long a console session lasts however much it is
// used (the absolute limit): after it, the user signs in again.
const SessionMaxAge = 7 * 24 * time.Hour

// sessionNow is the sessions' clock: the wall clock, not the server's
// (settable) clock, so that moving the domain's time in a test or a
// demo does not sign people out, and a session's limits are real time.
func sessionNow() time.Time { return time.Now() }

// session is the request's console session as the handlers see it.
type session struct {
	id       string // the hash of the cookie's token, the store's key
	username string
	csrf     string
}

// newSession stores a session for u and returns the token for its cookie.
// The store keeps only the token's hash.
func (c *Console) newSession(ec echo.Context, u *server.User) (string, error) {
	token := randomToken()
	now := sessionNow()
	ua := ec.Request().UserAgent()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	csrf := randomToken()
	err := c.d.Store.CreateConsoleSession(ec.Request().Context(), &server.ConsoleSession{ID: auth.HashToken(token), UserID: u.ID,
		CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(SessionMaxAge), UserAgent: ua, IP: ec.RealIP()})
	if err == nil {
		// The request's session from here on (the notice its answer
		// leaves is sealed to it: the page it goes to reads it so).
		ec.Set(ctxSession, &session{id: auth.HashToken(token), username: u.Username, csrf: csrf})
	}
	return token, err
}

// sessionOf returns the request's live session (recording its use) and its
// id, or nil when there is none. A store failure other than a refused
// session is returned.
func (c *Console) sessionOf(ctx context.Context, ec echo.Context) (string, *session, error) {
	ck, err := ec.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return "", nil, nil
	}
	id := auth.HashToken(ck.Value)
	s, err := c.d.Store.TouchConsoleSession(ctx, id, SessionTTL, sessionNow())
	switch code := server.ErrorCode(err); {
	case code == syncproto.CodeUnauthorized:
		return "", nil, nil
	case err != nil:
		return "", nil, err
	}
	return id, &session{id: id, username: s.Username, csrf: s.CSRF}, nil
}

// drop revokes a session (logout, or a user who may no longer sign in).
func (c *Console) drop(ctx context.Context, id string) error {
	err := c.d.Store.RevokeConsoleSession(ctx, id, sessionNow())
	if server.ErrorCode(err) == syncproto.CodeNotFound {
		return nil
	}
	return err
}
