// Package auth signs users in: bcrypt password hashes, short-lived access
// JWTs pinned to HS256, long-lived refresh tokens bound to one device and
// stored hashed and rotated on use, and slowing of repeated failed logins.
// The signing keys and the failed sign-ins live in the store, so that
// several servers sharing it act as one: a token any of them issued works
// on all, and a guesser is slowed whichever server they reach.
//
// A device's tokens belong to its session: access tokens carry the
// device's session generation, and ending the session (logout, or the
// reuse of a spent refresh token, which shows that a copy is in other
// hands) increments it, so every token issued before stops working at once.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
)

// Store is what the service needs of the store: users and devices, the
// token signing keys, and failed sign-ins.
type Store interface {
	server.AccountStore
	server.KeyStore
	server.LoginStore
}

// Service issues and checks credentials. Access tokens are signed with the
// store's newest signing key, named by the token header's kid, and
// verified with the key they name, so a token any server issued works on
// every server that shares the store.
type Service struct {
	Store      Store
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	Limiter    *Limiter
	Now        func() time.Time
	// Log receives security events (a spent refresh token presented
	// again) at Warn level.
	Log *slog.Logger
	// BcryptCost is the cost of new password hashes.
	BcryptCost int

	keys *keyring
}

// NewService returns a Service with the default lifetimes: 15-minute access
// tokens and 30-day refresh tokens, signing with the store's keys (see
// EnsureSigningKey for the first) and slowing failed sign-ins in the store.
// A nil log is slog.Default(); a nil now is time.Now.
func NewService(st Store, log *slog.Logger, now func() time.Time) *Service {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{Store: st, AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour,
		Limiter: NewLimiter(st, now), Now: now, Log: log, BcryptCost: bcrypt.DefaultCost, keys: &keyring{store: st}}
}

// NewPassword returns a password an administrator gives a user who
// forgot theirs: 12 characters that are easy to read out and type (no
// 0/O, 1/l/I).
func NewPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 12)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

// HashPassword returns a bcrypt hash. Errors: invalid_field (too short or
// too long for bcrypt).
func HashPassword(password string, cost int) (string, error) {
	if len(password) < 8 || len(password) > maxPassword {
		return "", server.Errorf(syncproto.CodeInvalidField, "密码长度应为 8 到 72 个字节")
	}
	if msg := passwordFormProblem(password); msg != "" {
		return "", server.Errorf(syncproto.CodeInvalidField, "%s", msg)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// Claims are the access token's claims.
type Claims struct {
	DeviceID string `json:"did"`
	Role     string `json:"role"`
	// Session is the device's session generation when the token was
	// issued (absent, so 0, in tokens issued before generations existed).
	Session int64 `json:"gen"`
	jwt.RegisteredClaims
}

const issuer = "fieldsync"

// AccessToken signs an access token for a user's device in the device's
// session generation session, with the newest signing key.
func (s *Service) AccessToken(userID, deviceID string, role server.Role, session int64) (string, error) {
	return s.accessToken(context.Background(), userID, deviceID, role, session)
}

func (s *Service) accessToken(ctx context.Context, userID, deviceID string, role server.Role, session int64) (string, error) {
	c := &Claims{DeviceID: deviceID, Role: string(role), Session: session}
	return s.sign(ctx, c, &c.RegisteredClaims, userID, s.AccessTTL)
}

// sign signs claims (HS256, the newest signing key named by kid) once
// reg, their registered part, has the issuer, subject, a random id and
// the time it is issued and expires at, ttl after.
func (s *Service) sign(ctx context.Context, claims jwt.Claims, reg *jwt.RegisteredClaims, subject string, ttl time.Duration) (string, error) {
	key, err := s.keys.signing(ctx)
	if err != nil {
		return "", err
	}
	now := s.Now()
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	reg.Issuer, reg.Subject, reg.ID = issuer, subject, hex.EncodeToString(id)
	reg.IssuedAt, reg.ExpiresAt = jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(ttl))
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = key.ID
	return t.SignedString(key.Secret)
}

// ParseAccess verifies an access token's signature (HS256 only) with the
// signing key its kid names (any key for a token without one, issued
// before keys had ids), its issuer and its expiry. Errors: token_expired,
// token_invalid (an unknown or removed kid included).
func (s *Service) ParseAccess(ctx context.Context, token string) (*Claims, error) {
	var c Claims
	var storeErr error
	_, err := jwt.ParseWithClaims(token, &c, s.keyFunc(ctx, &storeErr),
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.Now), jwt.WithLeeway(5*time.Second))
	switch {
	case storeErr != nil:
		return nil, storeErr
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, server.Errorf(syncproto.CodeTokenExpired, "访问令牌已过期，请刷新")
	case err != nil || c.Subject == "" || c.DeviceID == "":
		return nil, server.Errorf(syncproto.CodeTokenInvalid, "访问令牌无效")
	}
	return &c, nil
}

// Authenticate checks a bearer token, that it belongs to its device's
// current session (not ended by logout or by refresh-token reuse), and that
// its user and device may still sync. Errors: token_expired, token_invalid,
// user_disabled, device_revoked.
func (s *Service) Authenticate(ctx context.Context, token string) (*server.Principal, error) {
	c, err := s.ParseAccess(ctx, token)
	if err != nil {
		return nil, err
	}
	p, err := s.Store.Principal(ctx, c.Subject, c.DeviceID)
	if err != nil {
		return nil, err
	}
	if c.Session != p.Session {
		// The session ended: this device signed out, or the user's
		// password was changed or reset (every session ends), or the
		// account signed in anew on it.
		return nil, server.Errorf(syncproto.CodeTokenInvalid, "此设备的登录已结束（已在此设备退出，或账号密码已修改、重置），请重新登录")
	}
	return p, nil
}

// Login checks a password (slowing repeated failures per username and per
// client address), registers the device and returns its tokens. Errors:
// bad_request, too_many_attempts, invalid_credentials, user_disabled,
// device_revoked, conflict.
func (s *Service) Login(ctx context.Context, req *syncproto.LoginRequest, clientIP string) (*syncproto.TokenResponse, error) {
	if err := missingCredentials(typedName(req.Username), req.Password); err != nil {
		return nil, err
	}
	if !server.IsCanonicalUUID(req.DeviceID) {
		return nil, server.Errorf(syncproto.CodeInvalidField, "device_id 应为小写 UUID").At("device_id")
	}
	if len([]rune(req.DeviceName)) > 100 {
		return nil, server.Errorf(syncproto.CodeInvalidField, "device_name 不能超过 100 个字符").At("device_name")
	}
	if !server.NoControls.Valid(req.DeviceName) {
		return nil, server.Errorf(syncproto.CodeInvalidField, "device_name 应为%s", server.NoControls.Label).At("device_name")
	}
	in, err := s.CheckPassword(ctx, req.Username, req.Password, clientIP, req.KnownClient)
	if err != nil {
		return nil, err
	}
	resp, err := s.startSession(ctx, in, req.DeviceID, req.DeviceName)
	if err != nil {
		return nil, err
	}
	if resp.KnownClient, err = s.KnownClient(ctx, in.User.Username); err != nil {
		return nil, err
	}
	return resp, nil
}

// startSession starts a session of the device for a sign-in (registering
// the device at its first) and returns its tokens; a sign-in that no
// longer holds once the session is stored (Confirm) ends it again.
func (s *Service) startSession(ctx context.Context, in *SignIn, deviceID, deviceName string) (*syncproto.TokenResponse, error) {
	u := in.User
	refresh, refreshHash := newRefreshToken()
	now := s.Now()
	d := &server.Device{ID: deviceID, UserID: u.ID, Name: deviceName, CreatedAt: now}
	session, err := s.Store.RegisterDevice(ctx, d, refreshHash, now.Add(s.RefreshTTL))
	if err != nil {
		return nil, err
	}
	if err := s.Confirm(ctx, in); err != nil {
		if err := s.Store.SignOut(ctx, d.ID, s.Now()); err != nil {
			return nil, err
		}
		return nil, err
	}
	return s.tokens(ctx, server.DeviceSession{UserID: u.ID, DeviceID: deviceID, Session: session}, u.Role, refresh, u)
}

// passwordFormProblem says what keeps a password from being one anybody
// can sign in with, or "": a password is typed into a sign-in box, which
// sends UTF-8 without a line break or a tab (the API and the console
// refuse anything else), and one of spaces only is no secret.
func passwordFormProblem(password string) string {
	switch {
	case !utf8.ValidString(password):
		return "密码含有无效的 UTF-8 编码，无法在登录框中输入"
	case strings.ContainsFunc(password, unicode.IsControl) || strings.TrimSpace(password) == "":
		return "密码不能含换行、制表符等控制字符，也不能全是空格"
	}
	return ""
}

// CheckNewPassword says what is wrong with next as a user's own new
// password in place of current, if anything: its length (what bcrypt
// reads), its form (passwordFormProblem) or that it is the same. Errors:
// invalid_field (new_password).
func CheckNewPassword(current, next string) error {
	switch {
	case len(next) < minPassword || len(next) > maxPassword:
		return server.Errorf(syncproto.CodeInvalidField, "新密码应为 %d 到 %d 个字节（汉字每字 3 个字节）", minPassword, maxPassword).At("new_password")
	case passwordFormProblem(next) != "":
		return server.Errorf(syncproto.CodeInvalidField, "新%s", passwordFormProblem(next)).At("new_password")
	case next == current:
		return server.Errorf(syncproto.CodeInvalidField, "新密码不能与当前密码相同").At("new_password")
	}
	return nil
}

// ChangePassword sets the signed-in user's own password, once their
// current one is checked (slowed after failures as a sign-in is), and
// returns the calling device's new tokens: every other session of the
// user — their other phones, the console — ends, as an administrator's
// reset ends them, and this device's continues under the new tokens, its
// unsent work kept. Errors: invalid_field (new_password, or
// current_password: not the user's), missing_field, too_many_attempts,
// user_disabled, device_revoked, conflict (the password was reset or
// changed elsewhere while this change checked it: nothing changed). It
// returns the device too (its name is the audit log's).
func (s *Service) ChangePassword(ctx context.Context, p *server.Principal, current, next, clientIP string) (*syncproto.TokenResponse, *server.Device, error) {
	if current == "" {
		return nil, nil, server.Errorf(syncproto.CodeMissingField, "请输入当前密码").At("current_password")
	}
	if err := CheckNewPassword(current, next); err != nil {
		return nil, nil, err
	}
	in, err := s.CheckPassword(ctx, p.Username, current, clientIP)
	switch {
	case server.ErrorCode(err) == syncproto.CodeInvalidLogin:
		// Not 401: the caller's token is good, and a client that takes
		// any 401 for an ended session would sign the user out.
		return nil, nil, server.Errorf(syncproto.CodeInvalidField, "当前密码不正确").At("current_password")
	case err != nil:
		return nil, nil, err
	case in.User.ID != p.UserID:
		return nil, nil, server.Errorf(syncproto.CodeTokenInvalid, "令牌无效，请重新登录")
	}
	d, err := server.DeviceByID(ctx, s.Store, p.DeviceID)
	if err != nil {
		return nil, nil, err
	}
	hash, err := HashPassword(next, s.BcryptCost)
	if err != nil {
		return nil, nil, err
	}
	// Only in place of the password checked: an administrator's reset
	// (to lock out whoever knows the old one), a disable or another
	// change committed meanwhile wins, and this one ends without a
	// session.
	if err := s.Store.ReplaceUserPassword(ctx, p.Username, in.hash, hash); err != nil {
		return nil, nil, err
	}
	in.hash = hash
	tr, err := s.startSession(ctx, in, d.ID, d.Name)
	return tr, d, err
}

// SignIn is a password found right for a user: the user as read then, and
// the password hash it matched.
type SignIn struct {
	User *server.User
	hash string
}

// Confirm says whether a sign-in still holds once its session is stored:
// the user's password is still the one checked and the user is enabled.
// A password reset or a disable ends every session stored before it
// commits; one that commits while the password is being compared (bcrypt
// takes tens of milliseconds) would miss the session stored after it. So
// the session is stored first, then Confirm reads the user again, and on
// an error the caller ends that session: a reset or disable committed
// after the read ends it anyway. Errors: invalid_credentials (the
// password was changed), user_disabled.
func (s *Service) Confirm(ctx context.Context, in *SignIn) error {
	u, hash, err := s.Store.UserByUsername(ctx, in.User.Username)
	switch {
	case server.ErrorCode(err) == syncproto.CodeNotFound || err == nil && u.ID != in.User.ID:
		return server.Errorf(syncproto.CodeInvalidLogin, "用户名或密码错误")
	case err != nil:
		return err
	case hash != in.hash:
		s.securityEvent(ctx, "login_superseded", "username", u.Username, "detail", "the password was changed while the sign-in checked it; no session")
		return server.Errorf(syncproto.CodeInvalidLogin, "用户名或密码错误")
	case u.Disabled:
		return server.ErrUserDisabled
	}
	return nil
}

// CheckPassword checks a user's password, slowing repeated failures per
// username at a client address, per address and per username over every
// address (Limiter), and returns the sign-in (the user, and
// what Confirm checks once a session is stored). The office console signs
// in with it. A password longer than any stored one can be (72 bytes,
// all bcrypt reads) is wrong, though bcrypt would compare only its first
// 72 bytes. The username is taken as typed on a phone:
// without the spaces around it, full-width letters as ASCII (a Chinese
// keyboard in full-width mode), and in any letter case when only one user
// has it in some case (the store's UserByUsername); its failures count
// against the name in every case. known are the tokens the client holds
// of the accounts it signed in on (KnownClient): with one of this
// account's, the account's failures over every address do not hold it
// back. Errors: missing_field, too_many_attempts, invalid_credentials,
// user_disabled.
func (s *Service) CheckPassword(ctx context.Context, username, password, clientIP string, known ...string) (*SignIn, error) {
	username = typedName(username)
	if err := missingCredentials(username, password); err != nil {
		return nil, err
	}
	// The username at this address is the account's key (a success
	// clears it); the address's own and the username's over every
	// address (AccountKey: more free tries) are counted too, so that
	// failures from one address lock that address out of the account,
	// not its owner elsewhere.
	name := strings.ToLower(username)
	keys := []string{"u:" + name + "@" + clientIP, "ip:" + clientIP, AccountKey(name)}
	checked := keys
	if s.knownClient(ctx, name, known) {
		checked = keys[:2] // its owner's browser or phone: not the account's lock
	}
	done, err := s.Limiter.Begin(ctx, checked[0], checked[1:]...)
	if err != nil {
		if server.ErrorCode(err) == syncproto.CodeTooManyTries {
			s.securityEvent(ctx, "login_throttled", "username", username, "client_ip", clientIP, "detail", server.ErrorMessage(err))
		}
		return nil, err
	}
	defer done()
	u, hash, err := s.Store.UserByUsername(ctx, username)
	if server.ErrorCode(err) == syncproto.CodeNotFound {
		u, hash = nil, s.dummyHash() // spend the same time as for a real user
	} else if err != nil {
		return nil, err
	}
	compared, tooLong := password, len(password) > maxPassword
	if tooLong {
		// Compared all the same, so as to take the time a wrong one does
		// (and logged as a failure of the user it names).
		compared = password[:maxPassword]
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(compared)) != nil || u == nil || tooLong {
		if err := s.Limiter.Fail(ctx, keys...); err != nil {
			return nil, err
		}
		s.securityEvent(ctx, "login_failed", "username", username, "known_user", u != nil, "client_ip", clientIP)
		return nil, server.Errorf(syncproto.CodeInvalidLogin, "用户名或密码错误")
	}
	if u.Disabled {
		return nil, server.ErrUserDisabled
	}
	if err := s.Limiter.Succeed(ctx, keys[0], keys[2]); err != nil {
		return nil, err
	}
	return &SignIn{User: u, hash: hash}, nil
}

// maxPassword is the longest password, in bytes: all bcrypt reads;
// minPassword the shortest a user may choose.
const maxPassword, minPassword = 72, 8

// dummyHashes holds, by cost, the hash an unknown username's password is
// compared with.
var dummyHashes sync.Map

// dummyHash is a hash at the cost new passwords get: an unknown username
// takes as long to refuse as a known one's wrong password (most users'
// hashes have that cost), whatever --bcrypt-cost says.
func (s *Service) dummyHash() string {
	if h, ok := dummyHashes.Load(s.BcryptCost); ok {
		return h.(string)
	}
	h, err := bcrypt.GenerateFromPassword([]byte("fieldsync-dummy-password"), s.BcryptCost)
	if err != nil {
		h, _ = bcrypt.GenerateFromPassword([]byte("fieldsync-dummy-password"), bcrypt.DefaultCost)
	}
	dummyHashes.Store(s.BcryptCost, string(h))
	return string(h)
}

// Refresh exchanges a refresh token for new tokens; the old refresh token
// stops working. A refresh token presented again after it was exchanged
// ends the device's session (its refresh token and every access token stop
// working; the device must sign in again) and is logged as a security event
// with the client address. Errors: missing_field, token_invalid,
// token_expired, device_revoked, user_disabled.
func (s *Service) Refresh(ctx context.Context, token, clientIP string) (*syncproto.TokenResponse, error) {
	if token == "" {
		return nil, server.Errorf(syncproto.CodeMissingField, "缺少 refresh_token").At("refresh_token")
	}
	refresh, newHash := newRefreshToken()
	now := s.Now()
	ds, err := s.Store.RotateRefresh(ctx, HashToken(token), newHash, now.Add(s.RefreshTTL), now)
	if errors.Is(err, server.ErrRefreshReuse) {
		s.securityEvent(ctx, "refresh_token_reuse", "device_id", ds.DeviceID, "user_id", ds.UserID,
			"client_ip", clientIP, "detail", "a spent refresh token was presented again; the device's session was ended")
	}
	if err != nil {
		return nil, err
	}
	p, err := s.Store.Principal(ctx, ds.UserID, ds.DeviceID)
	if err != nil {
		return nil, err
	}
	u := &server.User{ID: p.UserID, Username: p.Username, DisplayName: p.Name, Role: p.Role, Counties: p.Counties}
	return s.tokens(ctx, ds, p.Role, refresh, u)
}

// Logout ends the device's session: its refresh token and every access
// token issued to it so far stop working at once. Signing in again starts a
// new session.
func (s *Service) Logout(ctx context.Context, p *server.Principal) error {
	return s.Store.SignOut(ctx, p.DeviceID, s.Now())
}

func (s *Service) tokens(ctx context.Context, ds server.DeviceSession, role server.Role, refresh string, u *server.User) (*syncproto.TokenResponse, error) {
	access, err := s.accessToken(ctx, ds.UserID, ds.DeviceID, role, ds.Session)
	if err != nil {
		return nil, err
	}
	counties := u.Counties
	if counties == nil {
		counties = []string{}
	}
	return &syncproto.TokenResponse{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.AccessTTL / time.Second),
		RefreshToken: refresh, RefreshExpiresIn: int(s.RefreshTTL / time.Second),
		User: syncproto.User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role),
			Counties: counties, DeviceID: ds.DeviceID},
	}, nil
}

func newRefreshToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how refresh tokens are stored: only their SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// securityEvent logs what an operator watching for attacks looks for (a
// failed or throttled sign-in, a reused refresh token), never a password
// or a token.
func (s *Service) securityEvent(ctx context.Context, kind string, args ...any) {
	if s.Log != nil {
		s.Log.WarnContext(ctx, "security event", append([]any{"kind", kind}, args...)...)
	}
}

// typedName is a username as a phone's keyboard may type it: without the
// spaces around it, full-width letters as ASCII.
func typedName(username string) string {
	return strings.TrimSpace(server.NarrowASCII(username))
}

// missingCredentials refuses a sign-in without a username (spaces only
// are none) or a password, naming the member missing.
func missingCredentials(username, password string) error {
	switch {
	case username == "":
		return server.Errorf(syncproto.CodeMissingField, "请输入用户名和密码").At("username")
	case password == "":
		return server.Errorf(syncproto.CodeMissingField, "请输入用户名和密码").At("password")
	}
	return nil
}
