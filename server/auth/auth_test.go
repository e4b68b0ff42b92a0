package auth

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
)

func kidOf(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, &Claims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}

// TestSigningKeysShared: two services over one store (two servers) accept
// each other's tokens; a rotation makes new tokens carry the new kid while
// old ones still verify, on the server that rotated and on the other; the
// removal of the old key refuses its tokens; a kid that names no key, or a
// token signed with other bytes than its kid's, is refused.
func TestSigningKeysShared(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	now := time.Now()
	first, err := EnsureSigningKey(ctx, db, filepath.Join(t.TempDir(), "jwt.key"), now)
	if err != nil || first == nil || first.ID == LegacyKeyID || len(first.Secret) != 32 {
		t.Fatalf("first key %+v, %v", first, err)
	}
	if again, err := EnsureSigningKey(ctx, db, "", now); err != nil || again != nil {
		t.Fatalf("a store with a key got another: %+v, %v", again, err)
	}
	a := NewService(db, nil, nil)
	b := NewService(db, nil, nil)
	issue := func(s *Service) string {
		t.Helper()
		tok, err := s.AccessToken("u1", "d1", server.RoleInspector, 3)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	accepts := func(s *Service, tok string) {
		t.Helper()
		c, err := s.ParseAccess(ctx, tok)
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		if c.Subject != "u1" || c.DeviceID != "d1" || c.Session != 3 {
			t.Fatalf("claims %+v", c)
		}
	}
	refuses := func(s *Service, tok string) {
		t.Helper()
		if _, err := s.ParseAccess(ctx, tok); server.ErrorCode(err) != syncproto.CodeTokenInvalid {
			t.Fatalf("got %v, want token_invalid", err)
		}
	}

	old := issue(a)
	if kidOf(t, old) != first.ID {
		t.Fatalf("token kid %q, want %q", kidOf(t, old), first.ID)
	}
	accepts(b, old)
	accepts(a, issue(b))

	b.ReloadKeys()
	if _, err := b.ParseAccess(ctx, old); err != nil { // b reads the keys
		t.Fatal(err)
	}
	rotated, err := RotateSigningKey(ctx, db, now)
	if err != nil {
		t.Fatal(err)
	}
	a.ReloadKeys() // as after keyTTL
	fresh := issue(a)
	if kidOf(t, fresh) != rotated.ID {
		t.Fatalf("after rotation the token's kid is %q, want %q", kidOf(t, fresh), rotated.ID)
	}
	// b read the keys just before the rotation; the new kid makes it read
	// them again, once keyRetry has passed since.
	start := time.Now()
	accepts(b, fresh)
	if d := time.Since(start); d > keyRetry+time.Second {
		t.Errorf("b took %v to find the new key", d)
	}
	accepts(a, old)
	accepts(b, old)
	if kidOf(t, issue(b)) != rotated.ID {
		t.Fatal("the other server still signs with the old key after reading the new one")
	}

	forge := func(kid string, secret []byte) string {
		c := Claims{DeviceID: "d1", Role: "inspector", Session: 3, RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: "u1", ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}}
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		if kid != "-" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other := NewSigningKey(now)
	refuses(a, forge("nope", rotated.Secret))     // a kid naming no key
	refuses(a, forge("", rotated.Secret))         // an empty kid
	refuses(a, forge(first.ID, rotated.Secret))   // signed with another key than its kid's
	refuses(a, forge(rotated.ID, other.Secret))   // signed with no key of ours
	accepts(a, forge(rotated.ID, rotated.Secret)) // what AccessToken makes
	accepts(a, forge("-", first.Secret))          // no kid: from before kids, any key
	refuses(a, forge("-", other.Secret))          // … but one of ours
	refuses(a, forge(other.ID, other.Secret))     // a kid of no key, read again
	if n, err := db.RemoveSigningKeys(ctx, rotated.CreatedAt.Add(time.Millisecond)); err != nil || n != 1 {
		t.Fatalf("removed %d keys, %v; want 1", n, err)
	}
	a.ReloadKeys()
	refuses(a, old)
	accepts(a, fresh)
	b.keys.mu.Lock()
	b.keys.loaded = b.keys.loaded.Add(-keyTTL - time.Second)
	b.keys.mu.Unlock()
	refuses(b, old)
	accepts(b, fresh)
}

// TestLegacyKeyImported: a server from before keys lived in the store gave
// its data directory a jwt.key; its tokens (without kid) still verify after
// the upgrade, and two servers starting at once import it once.
func TestLegacyKeyImported(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	file := filepath.Join(t.TempDir(), "jwt.key")
	legacy := []byte("0123456789abcdef0123456789abcdef-old")
	if err := os.WriteFile(file, legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	before := func() string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{DeviceID: "d1", RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: "u1", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute))}}).SignedString(legacy)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = EnsureSigningKey(ctx, db, file, time.Now())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, err := db.SigningKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].ID != LegacyKeyID || string(keys[0].Secret) != string(legacy) {
		t.Fatalf("keys after import %+v, %v", keys, err)
	}
	s := NewService(db, nil, nil)
	if _, err := s.ParseAccess(ctx, before); err != nil {
		t.Fatalf("a token from before the upgrade: %v", err)
	}
	tok, err := s.AccessToken("u1", "d1", server.RoleInspector, 0)
	if err != nil || kidOf(t, tok) != LegacyKeyID {
		t.Fatalf("token signed with kid %q, %v", kidOf(t, tok), err)
	}
	if err := os.WriteFile(file, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureSigningKey(ctx, openStore(t), file, time.Now()); err == nil {
		t.Fatal("a key file too short to be a key was accepted")
	}
}

// TestLimiterShared: two services over one store (two servers) count the
// same failures, and a success on one clears the username on both.
func TestLimiterShared(t *testing.T) {
	ctx := context.Background()
	db := storeWithWang(t)
	now := time.Now()
	clock := func() time.Time { return now }
	a := NewService(db, nil, clock)
	b := NewService(db, nil, clock)
	try := func(s *Service, password, ip string) string {
		t.Helper()
		_, err := s.CheckPassword(ctx, "wang", password, ip)
		return server.ErrorCode(err)
	}
	for i, s := range []*Service{a, b, a, b, a} {
		if code := try(s, "wrong guess", "10.0.0.1"); code != syncproto.CodeInvalidLogin {
			t.Fatalf("failure %d: %s", i+1, code)
		}
	}
	// Five failures from one address spread over both servers lock the
	// username from that address on both.
	for _, s := range []*Service{a, b} {
		if code := try(s, "correct horse", "10.0.0.1"); code != syncproto.CodeTooManyTries {
			t.Fatalf("after five failures on two servers: %q, want too_many_attempts", code)
		}
	}
	now = now.Add(1100 * time.Millisecond) // the first lock is one second
	if code := try(b, "correct horse", "10.0.0.1"); code != "" {
		t.Fatalf("right password after the lock: %q", code)
	}
	if code := try(a, "wrong guess", "10.0.0.1"); code != syncproto.CodeInvalidLogin {
		t.Fatalf("a failure after the success on the other server: %q, want invalid_credentials (counted afresh)", code)
	}
}

// TestSignInBurst: forty wrong sign-ins sent at once from forty
// addresses check no more passwords than the account's free tries over
// every address (twenty), and forty from one address no more than that
// address's (five); the others are told to wait. (A success in the
// burst would forget the failures before it: TestSuccessKeepsAttemptsInFlight.)
func TestSignInBurst(t *testing.T) {
	db := storeWithWang(t)
	now := time.Now()
	s := NewService(db, nil, func() time.Time { return now })
	codes := make([]string, 40)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			_, err := s.CheckPassword(context.Background(), "wang", "wrong guess "+strconv.Itoa(i), "10.0.3."+strconv.Itoa(i))
			codes[i] = server.ErrorCode(err)
		})
	}
	wg.Wait()
	checked := 0
	for i, code := range codes {
		switch code {
		case syncproto.CodeInvalidLogin, "":
			checked++
		case syncproto.CodeTooManyTries:
		default:
			t.Errorf("attempt %d: %q", i, code)
		}
	}
	if checked == 0 || checked > s.Limiter.AccountFreeTries {
		t.Errorf("%d passwords checked of forty at once (%v), want at most the account's %d free tries", checked, codes, s.Limiter.AccountFreeTries)
	}
	// From one address (another username, so that the first burst's
	// failures do not count).
	checked = 0
	var mu sync.Mutex
	for i := range 40 {
		wg.Go(func() {
			_, err := s.CheckPassword(context.Background(), "li", "wrong guess "+strconv.Itoa(i), "10.0.4.1")
			if code := server.ErrorCode(err); code == syncproto.CodeInvalidLogin {
				mu.Lock()
				checked++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if checked == 0 || checked > s.Limiter.FreeTries {
		t.Errorf("%d passwords checked of forty at once from one address, want at most its %d free tries", checked, s.Limiter.FreeTries)
	}
}

// TestOneAddressCannotLockTheAccount: failures from one address lock
// that address out of the account, not the account's owner signing in
// from another (anyone could keep a guessable username — an office's —
// locked with a request every few minutes); failures spread over many
// addresses still lock the account everywhere once they pass its free
// tries.
func TestOneAddressCannotLockTheAccount(t *testing.T) {
	ctx := context.Background()
	db := storeWithWang(t)
	now := time.Now()
	s := NewService(db, nil, func() time.Time { return now })
	try := func(password, ip string) string {
		t.Helper()
		_, err := s.CheckPassword(ctx, "wang", password, ip)
		return server.ErrorCode(err)
	}
	// Forty failures from one address, each once its lock is over (a
	// patient guesser: it took 30 to lock the account everywhere for 15
	// minutes, renewed with one request as often).
	for i := range 40 {
		now = now.Add(time.Duration(1<<min(i, 10)) * time.Second) // the last failure's lock waited out
		if code := try("wrong guess", "10.9.0.1"); code != syncproto.CodeInvalidLogin {
			t.Fatalf("failure %d: %q", i+1, code)
		}
	}
	if code := try("correct horse", "10.9.0.1"); code != syncproto.CodeTooManyTries {
		t.Errorf("the failing address's next try: %q, want too_many_attempts", code)
	}
	if code := try("correct horse", "10.9.0.2"); code != "" {
		t.Fatalf("the owner from another address after forty failures from one: %q, want signed in", code)
	}
	// The owner's success cleared the account's count over every
	// address; twenty failures from twenty addresses lock it everywhere.
	for i := range s.Limiter.AccountFreeTries {
		if code := try("wrong guess", "10.9.1."+strconv.Itoa(i)); code != syncproto.CodeInvalidLogin {
			t.Fatalf("failure %d from its own address: %q", i+1, code)
		}
	}
	if code := try("correct horse", "10.9.2.1"); code != syncproto.CodeTooManyTries {
		t.Errorf("after %d failures from as many addresses: %q, want too_many_attempts", s.Limiter.AccountFreeTries, code)
	}
}

// TestKnownClientPassesTheAccountLock: guesses spread over many
// addresses lock an account for every client but the ones its owner
// signed in on before (KnownClient), whose own address's failures still
// hold them back; another account's token, an access token, an expired
// or forged one are no known client's.
func TestKnownClientPassesTheAccountLock(t *testing.T) {
	ctx := context.Background()
	db := storeWithWang(t)
	now := time.Now()
	if _, err := EnsureSigningKey(ctx, db, "", now); err != nil {
		t.Fatal(err)
	}
	s := NewService(db, nil, func() time.Time { return now })
	try := func(password, ip string, known ...string) string {
		t.Helper()
		_, err := s.CheckPassword(ctx, "wang", password, ip, known...)
		return server.ErrorCode(err)
	}
	known, err := s.KnownClient(ctx, "Wang")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.KnownClient(ctx, "li")
	access, _ := s.AccessToken("u-wang", "d-1", server.RoleInspector, 1)
	then := now
	now = now.Add(-KnownClientTTL - time.Hour)
	expired, _ := s.KnownClient(ctx, "wang")
	now = then
	forged := known[:len(known)-4] + "AAAA"
	for i := range s.Limiter.AccountFreeTries + 3 { // from as many addresses, and more
		if code := try("wrong guess", "10.8.1."+strconv.Itoa(i)); code != syncproto.CodeInvalidLogin && code != syncproto.CodeTooManyTries {
			t.Fatalf("failure %d: %q", i+1, code)
		}
	}
	for name, tokens := range map[string][]string{"none": nil, "another account's": {other}, "an access token": {access},
		"an expired one": {expired}, "a forged one": {forged}} {
		if code := try("correct horse", "10.8.2.1", tokens...); code != syncproto.CodeTooManyTries {
			t.Errorf("the owner's password with %s: %q, want too_many_attempts", name, code)
		}
	}
	if code := try("correct horse", "10.8.2.1", forged, known); code != "" {
		t.Fatalf("the owner's password on a known client: %q, want signed in", code)
	}
	// A known client's own address is still slowed by its failures.
	for i := range s.Limiter.FreeTries {
		if code := try("wrong guess", "10.8.3.1", known); code != syncproto.CodeInvalidLogin {
			t.Fatalf("a known client's failure %d: %q", i+1, code)
		}
	}
	if code := try("correct horse", "10.8.3.1", known); code != syncproto.CodeTooManyTries {
		t.Errorf("a known client after its own address's failures: %q, want too_many_attempts", code)
	}
}

// TestSignInAsTyped: a username is taken as a phone types it, with spaces
// around it, a capital first letter or in full-width letters (a Chinese
// keyboard in full-width mode), and its failures count against
// the one name whatever its case, so that changing case does not win a
// guesser more tries.
func TestSignInAsTyped(t *testing.T) {
	ctx := context.Background()
	db := storeWithWang(t)
	now := time.Now()
	s := NewService(db, nil, func() time.Time { return now })
	for _, typed := range []string{"Wang", " wang ", "WANG\t", "\u3000wang", "ｗａｎｇ", "\u3000Ｗａｎｇ\u3000"} {
		in, err := s.CheckPassword(ctx, typed, "correct horse", "10.0.0.1")
		if err != nil || in.User.ID != "u-wang" || in.User.Username != "wang" {
			t.Errorf("sign in as %q: %+v %v, want wang", typed, in, err)
		}
	}
	for i, typed := range []string{"Wang", "wANG", "WANG", "wang ", "Wang"} {
		if _, err := s.CheckPassword(ctx, typed, "wrong guess", "10.0.1.1"); server.ErrorCode(err) != syncproto.CodeInvalidLogin {
			t.Fatalf("failure %d as %q: %v", i+1, typed, err)
		}
	}
	if _, err := s.CheckPassword(ctx, "wang", "correct horse", "10.0.1.1"); server.ErrorCode(err) != syncproto.CodeTooManyTries {
		t.Fatalf("after five failures in five spellings: %v, want too_many_attempts", err)
	}
	for _, typed := range []string{"wan", "wang2", "w_ng", "wang%"} {
		if _, err := s.CheckPassword(ctx, typed, "correct horse", "10.0.2.1"); server.ErrorCode(err) != syncproto.CodeInvalidLogin {
			t.Errorf("sign in as %q: %v, want invalid_credentials", typed, err)
		}
	}
}

// storeWithWang opens a store with one inspector, wang, whose password is
// "correct horse".
func storeWithWang(t *testing.T) Store {
	t.Helper()
	db := openStore(t)
	hash, err := HashPassword("correct horse", 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(context.Background(), &server.User{ID: "u-wang", Username: "wang", Role: server.RoleInspector, CreatedAt: time.Now()}, hash); err != nil {
		t.Fatal(err)
	}
	return db
}

// meddler is the real store with an office's act (a password reset, a
// disable) done at the moment a sign-in, its password checked, stores
// its session: the race a reset must win.
type meddler struct {
	*sqlite.DB
	act         func() error
	refreshHash string
}

func (m *meddler) RegisterDevice(ctx context.Context, d *server.Device, refreshHash string, refreshExpires time.Time) (int64, error) {
	if err := m.act(); err != nil {
		return 0, err
	}
	m.refreshHash = refreshHash
	return m.DB.RegisterDevice(ctx, d, refreshHash, refreshExpires)
}

// TestSignInLosesToReset: a password reset or a disable that commits while
// a sign-in compares the old password leaves that sign-in with no session:
// it is refused, and the refresh token it stored does not work. (It used
// to get tokens of a session the reset never ended, good for 30 days.)
func TestSignInLosesToReset(t *testing.T) {
	ctx := context.Background()
	resetTo := func(password string) func(db *sqlite.DB) error {
		return func(db *sqlite.DB) error {
			h, err := HashPassword(password, 4)
			if err != nil {
				return err
			}
			return db.SetUserPassword(ctx, "wang", h)
		}
	}
	for _, tc := range []struct {
		name string
		act  func(db *sqlite.DB) error
		code string
	}{
		{"reset", resetTo("battery staple"), syncproto.CodeInvalidLogin},
		{"reset to the same password", resetTo("correct horse"), syncproto.CodeInvalidLogin},
		{"disable", func(db *sqlite.DB) error { return db.SetUserDisabled(ctx, "wang", true) }, syncproto.CodeUserDisabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storeWithWang(t).(*sqlite.DB)
			once := false
			m := &meddler{DB: db}
			m.act = func() error {
				if once {
					return nil
				}
				once = true
				return tc.act(db)
			}
			s := NewService(m, nil, nil)
			if _, err := EnsureSigningKey(ctx, db, "", time.Now()); err != nil {
				t.Fatal(err)
			}
			_, err := s.Login(ctx, &syncproto.LoginRequest{Username: "wang", Password: "correct horse",
				DeviceID: "0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57", DeviceName: "phone"}, "10.0.0.1")
			if code := server.ErrorCode(err); code != tc.code {
				t.Fatalf("sign-in racing a %s: %v, want %s", tc.name, err, tc.code)
			}
			if m.refreshHash == "" {
				t.Fatal("the sign-in stored no session: the race was not run")
			}
			_, err = db.RotateRefresh(ctx, m.refreshHash, "next", time.Now().Add(time.Hour), time.Now())
			if err == nil {
				t.Errorf("the refresh token of the refused sign-in still works")
			}
		})
	}
}

// TestLongPasswordRefused: bcrypt reads only a password's first 72 bytes;
// a longer one is wrong even when those match.
func TestLongPasswordRefused(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	pw := strings.Repeat("码", 24) // 72 bytes
	hash, err := HashPassword(pw, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &server.User{ID: "u-long", Username: "long", Role: server.RoleInspector, CreatedAt: time.Now()}, hash); err != nil {
		t.Fatal(err)
	}
	s := NewService(db, nil, nil)
	for i, tc := range []struct {
		password string
		code     string
	}{
		{pw, ""},
		{pw + "B", syncproto.CodeInvalidLogin},
		{pw + strings.Repeat("x", 1000), syncproto.CodeInvalidLogin},
		{pw[:69], syncproto.CodeInvalidLogin},
	} {
		_, err := s.CheckPassword(ctx, "long", tc.password, "10.0.4."+strconv.Itoa(i))
		if code := server.ErrorCode(err); code != tc.code {
			t.Errorf("password of %d bytes: %q, want %q", len(tc.password), code, tc.code)
		}
	}
}

// TestUnknownUserTakesTheCost: an unknown username's password is compared
// with a hash at the cost new passwords get, so that it takes as long to
// refuse as a known user's wrong one whatever --bcrypt-cost says.
func TestUnknownUserTakesTheCost(t *testing.T) {
	s := NewService(openStore(t), nil, nil)
	for _, cost := range []int{4, 11} {
		s.BcryptCost = cost
		if got, err := bcrypt.Cost([]byte(s.dummyHash())); err != nil || got != cost {
			t.Errorf("at --bcrypt-cost %d the unknown user's hash has cost %d (%v)", cost, got, err)
		}
	}
}

// TestNewPasswordTypable: a new password is one a person can type into a
// sign-in box: no line break, tab or other control character, and not
// spaces alone (the command line took them).
func TestNewPasswordTypable(t *testing.T) {
	for _, pw := range []string{"line1\nline2xx", "tab\there-ok", "        ", " \u3000 \u3000 \u3000 \u3000", "nul\x00chars-x", "del\x7fchar-xx",
		"pw1234567\xff", "\xc0\xafoverlong-x", "\xed\xa0\x80surrogate"} {
		if _, err := HashPassword(pw, 4); server.ErrorCode(err) != syncproto.CodeInvalidField {
			t.Errorf("password %q: %v, want invalid_field", pw, err)
		}
		// A user's own change says which field, as its other refusals do.
		if err := CheckNewPassword("the old one", pw); server.ErrorCode(err) != syncproto.CodeInvalidField || server.ErrorField(err) != "new_password" {
			t.Errorf("new password %q: %v, want invalid_field at new_password", pw, err)
		}
	}
	for _, pw := range []string{"correct horse", "密码安全第一", "  spaces around  "} {
		if _, err := HashPassword(pw, 4); err != nil {
			t.Errorf("password %q: %v", pw, err)
		}
	}
}

// changeMeddler is the real store with an office's act done at the moment
// a user's own password change, its current password checked, stores the
// new one.
type changeMeddler struct {
	*sqlite.DB
	act func() error
}

func (m *changeMeddler) ReplaceUserPassword(ctx context.Context, username, oldHash, newHash string) error {
	if err := m.act(); err != nil {
		return err
	}
	return m.DB.ReplaceUserPassword(ctx, username, oldHash, newHash)
}

// TestOwnChangeLosesToReset: an administrator's reset (to lock out whoever
// knows the password), a disable, or another change that commits while a
// user's own change checks the current password wins: the change is
// refused, stores nothing and starts no session. (It overwrote the reset
// and kept a session; answered user_disabled, it had changed the password.)
func TestOwnChangeLosesToReset(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		act      func(db *sqlite.DB) error
		code     string
		password string // the one that signs in after
	}{
		{"reset", func(db *sqlite.DB) error {
			h, err := HashPassword("admin reset 1", 4)
			if err != nil {
				return err
			}
			return db.SetUserPassword(ctx, "wang", h)
		}, syncproto.CodeConflict, "admin reset 1"},
		{"disable", func(db *sqlite.DB) error { return db.SetUserDisabled(ctx, "wang", true) }, syncproto.CodeUserDisabled, "correct horse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storeWithWang(t).(*sqlite.DB)
			if _, err := EnsureSigningKey(ctx, db, "", time.Now()); err != nil {
				t.Fatal(err)
			}
			plain := NewService(db, nil, nil)
			tr, err := plain.Login(ctx, &syncproto.LoginRequest{Username: "wang", Password: "correct horse",
				DeviceID: "0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57", DeviceName: "phone"}, "10.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			p, err := plain.Authenticate(ctx, tr.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			ran := false
			m := &changeMeddler{DB: db, act: func() error {
				if ran {
					return nil
				}
				ran = true
				return tc.act(db)
			}}
			_, _, err = NewService(m, nil, nil).ChangePassword(ctx, p, "correct horse", "thief password", "10.0.0.2")
			if code := server.ErrorCode(err); code != tc.code || !ran {
				t.Fatalf("a change racing a %s: %v (raced %v), want %s", tc.name, err, ran, tc.code)
			}
			_ = db.SetUserDisabled(ctx, "wang", false)
			for pw, ok := range map[string]bool{tc.password: true, "thief password": false} {
				_, err := plain.CheckPassword(ctx, "wang", pw, "10.0.0.3")
				if (err == nil) != ok {
					t.Errorf("after the race, %q signs in: %v, want %v", pw, err == nil, ok)
				}
			}
		})
	}
}

// TestSuccessKeepsAttemptsInFlight: a sign-in that succeeds forgets its
// keys' failures, not the other sign-ins of the account being checked at
// that moment — forgotten, as many again were let in beside them (a burst
// with the right password in it checked 38 of forty).
func TestSuccessKeepsAttemptsInFlight(t *testing.T) {
	ctx := context.Background()
	db := storeWithWang(t)
	now := time.Now()
	s := NewService(db, nil, func() time.Time { return now })
	l := s.Limiter
	begin := func(i int) error {
		ip := "10.0.5." + strconv.Itoa(i)
		_, err := l.Begin(ctx, "u:wang@"+ip, "ip:"+ip, AccountKey("wang"))
		return err
	}
	for i := range l.AccountFreeTries {
		if err := begin(i); err != nil {
			t.Fatalf("attempt %d refused: %v", i, err)
		}
	}
	if err := begin(100); server.ErrorCode(err) != syncproto.CodeTooManyTries {
		t.Fatalf("with the account's free tries in flight another was let in: %v", err)
	}
	// One of them succeeds (its own in-flight count goes with its done,
	// not called here: the others are still being checked).
	if err := l.Succeed(ctx, "u:wang@10.0.5.0", AccountKey("wang")); err != nil {
		t.Fatal(err)
	}
	if err := begin(101); server.ErrorCode(err) != syncproto.CodeTooManyTries {
		t.Errorf("after a success the attempts in flight were forgotten: another let in (%v)", err)
	}
}
