package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// A page says what a form just did (已审核通过, 已保存点位, 已停用用户 …) from
// a notice the form's answer leaves in a cookie for the page it sends the
// browser to, read there once. An address alone never makes a page say it:
// a crafted link said a pending inspection was approved, or a user was
// disabled with text of the link's choosing, and a reload or a bookmark
// said it again.

// noticeCookie holds the notice, for the path of the page that shows it.
const noticeCookie = "fieldsync_notice"

// ctxNotice caches the request's notice (takeNotice).
const ctxNotice = "console.notice"

// redirectDone answers a form with a redirect to target, a console path
// with its query and fragment, whose page is to say notice (what was done:
// its keys are the page's own, such as done and user).
func redirectDone(ec echo.Context, target string, notice url.Values) error {
	path, _, _ := strings.Cut(target, "?")
	path, _, _ = strings.Cut(path, "#")
	value := base64.RawURLEncoding.EncodeToString([]byte(notice.Encode()))
	if s := sessionFrom(ec); s != nil && s.csrf != "" {
		sealed, err := sealNotice(s, strconv.FormatInt(sessionNow().Unix(), 10)+"\n"+notice.Encode())
		if err != nil {
			return err
		}
		value = sealed
	}
	ec.SetCookie(&http.Cookie{Name: noticeCookie, Value: value,
		Path: path, MaxAge: int(noticeMaxAge / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: ec.Scheme() == "https"})
	return ec.Redirect(http.StatusSeeOther, target)
}

// sealedPrefix begins a notice sealed to its session (sealNotice).
const sealedPrefix = "s."

// A notice left by a signed-in office is sealed (AES-GCM) with a key made
// from its session's own secret, which no cookie carries: the password a
// reset made (重置密码) travelled in the cookie as plain text, kept by any
// proxy or tool that logs cookies, and usable long after the session
// (ops probe). Sealed, it is read only within that session.
func noticeAEAD(s *session) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("fieldsync console notice\x00" + s.csrf))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealNotice seals text for session s (sealedPrefix, then base64 of the
// nonce and the sealed text).
func sealNotice(s *session, text string) (string, error) {
	aead, err := noticeAEAD(s)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(text), nil)), nil
}

// openNotice reads a notice cookie's value: sealed to session s, or, left
// where no one was signed in, plain.
func openNotice(s *session, value string) (string, bool) {
	sealed, ok := strings.CutPrefix(value, sealedPrefix)
	if !ok {
		b, err := base64.RawURLEncoding.DecodeString(value)
		return string(b), err == nil
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if s == nil || err != nil {
		return "", false
	}
	aead, err := noticeAEAD(s)
	if err != nil || len(b) < aead.NonceSize() {
		return "", false
	}
	text, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], nil)
	if err != nil {
		return "", false
	}
	// Read within its two minutes (the cookie's Max-Age), whatever the
	// browser keeps: sent again by hand later, it said a password reset
	// twice since (verification probe).
	at, rest, ok := strings.Cut(string(text), "\n")
	sec, perr := strconv.ParseInt(at, 10, 64)
	if !ok || perr != nil || sessionNow().Sub(time.Unix(sec, 0)) > noticeMaxAge {
		return "", false
	}
	return rest, true
}

// noticeMaxAge is how long a notice is read: the cookie's Max-Age.
const noticeMaxAge = 120 * time.Second

// takeNotice returns the notice a form left for this page (redirectDone),
// empty when there is none, and clears it: the page says it once.
func takeNotice(ec echo.Context) url.Values {
	if n, ok := ec.Get(ctxNotice).(url.Values); ok {
		return n
	}
	n := url.Values{}
	if ck, err := ec.Cookie(noticeCookie); err == nil {
		if text, ok := openNotice(sessionFrom(ec), ck.Value); ok {
			if q, err := url.ParseQuery(text); err == nil {
				n = q
			}
		}
		ec.SetCookie(&http.Cookie{Name: noticeCookie, Path: ec.Request().URL.EscapedPath(), MaxAge: -1, HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: ec.Scheme() == "https"})
	}
	ec.Set(ctxNotice, n)
	return n
}

// withQuery returns path with q as its query, if any.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
