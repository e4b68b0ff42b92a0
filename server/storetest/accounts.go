package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// userCases: accounts.
var userCases = []testCase{
	{"CreateAndLoad", testCreateUser},
	{"Counties", testUserCounties},
	{"Role", testUserRole},
	{"DevicesByScope", testDevicesScope},
}

func testCreateUser(t *testing.T, open Opener) {
	e := seeded(t, open)
	u := &server.User{ID: uuid.NewString(), Username: "wang", DisplayName: "王检查", Role: server.RoleCountyOffice,
		Counties: []string{dingxia, xinfu}, CreatedAt: t0}
	if err := e.st.CreateUser(e.ctx, u, "$2a$hash"); err != nil {
		t.Fatal(err)
	}
	got, hash, err := e.st.UserByUsername(e.ctx, "wang")
	if err != nil {
		t.Fatal(err)
	}
	if hash != "$2a$hash" || got.ID != u.ID || got.Username != "wang" || got.DisplayName != "王检查" ||
		got.Role != server.RoleCountyOffice || got.Disabled || !got.CreatedAt.Equal(t0) ||
		!slices.Equal(got.Counties, []string{xinfu, dingxia}) {
		t.Errorf("user %+v hash %q", got, hash)
	}
	dup := &server.User{ID: uuid.NewString(), Username: "wang", Role: server.RoleInspector, CreatedAt: t0}
	wantCode(t, e.st.CreateUser(e.ctx, dup, "x"), syncproto.CodeConflict, "username taken")
	_, _, err = e.st.UserByUsername(e.ctx, "nobody")
	wantCode(t, err, syncproto.CodeNotFound, "unknown username")

	for _, name := range []string{"zhao", "li", "an"} {
		e.user(name, server.RoleInspector, xinfu)
	}
	users, err := e.st.Users(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if !slices.Equal(names, []string{"an", "li", "wang", "zhao"}) {
		t.Errorf("users %v, want by username", names)
	}
	if users[2].ID != u.ID || !slices.Equal(users[2].Counties, []string{xinfu, dingxia}) || users[2].Role != server.RoleCountyOffice {
		t.Errorf("listed user %+v", users[2])
	}
	// A name typed in another letter case finds the one user it can mean;
	// where two users differ only in case (made before that was refused),
	// the exact spelling finds its own and another spelling neither.
	for _, typed := range []string{"Wang", "WANG", "wAnG"} {
		if got, hash, err := e.st.UserByUsername(e.ctx, typed); err != nil || got.ID != u.ID || hash != "$2a$hash" {
			t.Errorf("UserByUsername(%q) = %+v %q %v, want wang's", typed, got, hash, err)
		}
	}
	zhang := e.user("Zhang", server.RoleInspector, xinfu)
	if got, _, err := e.st.UserByUsername(e.ctx, "zhang"); err != nil || got.ID != zhang.ID {
		t.Errorf("zhang = %+v %v, want Zhang", got, err)
	}
	zhang2 := e.user("zhang", server.RoleInspector, xinfu)
	for typed, want := range map[string]string{"Zhang": zhang.ID, "zhang": zhang2.ID} {
		if got, _, err := e.st.UserByUsername(e.ctx, typed); err != nil || got.ID != want {
			t.Errorf("UserByUsername(%q) = %+v %v, want the exact spelling's", typed, got, err)
		}
	}
	_, _, err = e.st.UserByUsername(e.ctx, "ZHANG")
	wantCode(t, err, syncproto.CodeNotFound, "a spelling two users differ from only in case")
	_, _, err = e.st.UserByUsername(e.ctx, "wang%")
	wantCode(t, err, syncproto.CodeNotFound, "a pattern character")
}

func testUserCounties(t *testing.T, open Opener) {
	e := seeded(t, open)
	u := e.user("wang", server.RoleInspector, xinfu)
	if err := e.st.SetUserCounties(e.ctx, "wang", []string{yuanpin, dingxia}); err != nil {
		t.Fatal(err)
	}
	got, _, err := e.st.UserByUsername(e.ctx, "wang")
	if err != nil || !slices.Equal(got.Counties, []string{dingxia, yuanpin}) {
		t.Errorf("counties %v %v, want replaced and sorted", got.Counties, err)
	}
	// An inspector left with no county could do nothing: refused, and the
	// counties stay; a city office sees every county with none listed.
	wantCode(t, e.st.SetUserCounties(e.ctx, "wang", nil), syncproto.CodeMissingField, "no county for an inspector")
	if got, _, _ := e.st.UserByUsername(e.ctx, "wang"); !slices.Equal(got.Counties, []string{dingxia, yuanpin}) || got.ID != u.ID {
		t.Errorf("counties after a refused nil: %v", got.Counties)
	}
	e.user("liu", server.RoleCityOffice, xinfu)
	// A city office sees every county: a list would limit nothing, and
	// is refused (the one it was made with cleared).
	wantCode(t, e.st.SetUserCounties(e.ctx, "liu", []string{dingxia}), syncproto.CodeInvalidValue, "counties limiting a city office")
	if got, _, _ := e.st.UserByUsername(e.ctx, "liu"); !slices.Equal(got.Counties, []string{xinfu}) {
		t.Errorf("a city office's counties after a refused list: %v", got.Counties)
	}
	if err := e.st.SetUserCounties(e.ctx, "liu", nil); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := e.st.UserByUsername(e.ctx, "liu"); len(got.Counties) != 0 {
		t.Errorf("a city office's counties after nil: %v", got.Counties)
	}
	wantCode(t, e.st.SetUserCounties(e.ctx, "nobody", []string{xinfu}), syncproto.CodeNotFound, "counties of nobody")
}

// testUserRole: a user given another role has it, with the counties it
// works in, at their next request (Principal), and their devices' scope
// version moves on; a refusal changes nothing.
func testUserRole(t *testing.T, open Opener) {
	e := seeded(t, open)
	u := e.user("wang", server.RoleInspector, xinfu)
	d := e.signIn(u)
	held := func() (*server.Principal, *server.User) {
		t.Helper()
		p, err := e.st.Principal(e.ctx, u.ID, d.p.DeviceID)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := e.st.UserByUsername(e.ctx, "wang")
		if err != nil {
			t.Fatal(err)
		}
		return p, got
	}
	setRole := func(username string, role server.Role, counties []string) error {
		_, err := e.st.SetUserAccess(e.ctx, username, role, counties)
		return err
	}
	_, before := held()
	if err := setRole("wang", server.RoleCountyOffice, []string{dingxia, xinfu}); err != nil {
		t.Fatal(err)
	}
	p, got := held()
	if p.Role != server.RoleCountyOffice || got.Role != server.RoleCountyOffice || !slices.Equal(got.Counties, []string{xinfu, dingxia}) || !slices.Equal(p.Counties, got.Counties) {
		t.Errorf("after county_office: principal %s %v, user %s %v", p.Role, p.Counties, got.Role, got.Counties)
	}
	if got.ScopeVersion <= before.ScopeVersion {
		t.Errorf("scope version %d → %d: want it moved on", before.ScopeVersion, got.ScopeVersion)
	}
	for _, tc := range []struct {
		role              server.Role
		counties          []string
		code, field, what string
	}{
		{server.RoleCityOffice, []string{xinfu}, syncproto.CodeInvalidValue, "counties", "counties for a city office"},
		{server.RoleInspector, nil, syncproto.CodeMissingField, "counties", "an inspector without a county"},
		{"boss", []string{xinfu}, syncproto.CodeInvalidValue, "role", "an unknown role"},
		{server.RoleInspector, []string{"999999"}, syncproto.CodeInvalidValue, "", "an unknown county"},
	} {
		err := setRole("wang", tc.role, tc.counties)
		wantCode(t, err, tc.code, tc.what)
		if f := server.ErrorField(err); f != tc.field {
			t.Errorf("%s: field %q, want %q", tc.what, f, tc.field)
		}
		if p2, got2 := held(); p2.Role != server.RoleCountyOffice || !slices.Equal(got2.Counties, got.Counties) || got2.ScopeVersion != got.ScopeVersion {
			t.Errorf("%s: the user is now %s %v (scope %d): a refusal changed it", tc.what, got2.Role, got2.Counties, got2.ScopeVersion)
		}
	}
	// A role that sees every county keeps no list.
	if err := setRole("wang", server.RoleCityOffice, nil); err != nil {
		t.Fatal(err)
	}
	if p, got := held(); p.Role != server.RoleCityOffice || len(got.Counties) != 0 || !p.Scope().All {
		t.Errorf("after city_office: %s %v, scope %+v", got.Role, got.Counties, p.Scope())
	}
	if err := setRole("wang", server.RoleInspector, []string{yuanpin}); err != nil {
		t.Fatal(err)
	}
	if p, got := held(); p.Role != server.RoleInspector || !slices.Equal(got.Counties, []string{yuanpin}) || p.Scope().All {
		t.Errorf("back to inspector: %s %v, scope %+v", got.Role, got.Counties, p.Scope())
	}
	wantCode(t, setRole("nobody", server.RoleInspector, []string{xinfu}), syncproto.CodeNotFound, "the role of nobody")
	// The user as they were, read in the change (two administrators'
	// changes at once each say what theirs replaced); "" keeps the role;
	// the name in another letter case finds the user, as sign-in does.
	was, err := e.st.SetUserAccess(e.ctx, "WANG", "", []string{dingxia})
	if err != nil || was.Username != "wang" || was.Role != server.RoleInspector || !slices.Equal(was.Counties, []string{yuanpin}) {
		t.Errorf("SetUserAccess(WANG) was %+v %v, want wang, an inspector in %s", was, err, yuanpin)
	}
	if p, got := held(); p.Role != server.RoleInspector || !slices.Equal(got.Counties, []string{dingxia}) {
		t.Errorf("after counties alone: %s %v", got.Role, got.Counties)
	}
	// The last enabled administrator keeps the role and stays enabled:
	// no one could manage users otherwise.
	e.user("boss", server.RoleAdmin)
	wantCode(t, setRole("boss", server.RoleCityOffice, nil), syncproto.CodeConflict, "the last administrator made a city office")
	wantCode(t, e.st.SetUserDisabled(e.ctx, "boss", true), syncproto.CodeConflict, "the last administrator disabled")
	if err := setRole("wang", server.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUserDisabled(e.ctx, "Boss", true); err != nil {
		t.Errorf("an administrator disabled beside another (by the name in another case): %v", err)
	}
	wantCode(t, setRole("wang", server.RoleInspector, []string{xinfu}), syncproto.CodeConflict, "the last enabled administrator made an inspector")
	wantCode(t, e.st.SetUserDisabled(e.ctx, "wang", true), syncproto.CodeConflict, "the last enabled administrator disabled")
	if err := e.st.SetUserDisabled(e.ctx, "boss", false); err != nil {
		t.Fatal(err)
	}
	if err := setRole("wang", server.RoleInspector, []string{xinfu}); err != nil {
		t.Errorf("an administrator made an inspector beside another: %v", err)
	}
	// Two administrators taking each other's role, or disabling each
	// other, at the same moment: one of them stays (admin probe).
	old := []string{"boss"}
	for round := range 6 {
		a, b := fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)
		e.user(a, server.RoleAdmin)
		e.user(b, server.RoleAdmin)
		for _, name := range old { // a and b the only administrators
			if err := e.st.SetUserDisabled(e.ctx, name, true); err != nil {
				t.Fatal(err)
			}
		}
		old = []string{a, b}
		change := func(name string) error {
			if round%2 == 0 {
				return setRole(name, server.RoleCountyOffice, []string{xinfu})
			}
			return e.st.SetUserDisabled(e.ctx, name, true)
		}
		errs := make(chan error, 2)
		go func() { errs <- change(a) }()
		go func() { errs <- change(b) }()
		e1, e2 := <-errs, <-errs
		if e1 == nil && e2 == nil {
			t.Errorf("round %d: both administrators lost the role or were disabled at once", round)
		}
		for _, err := range []error{e1, e2} {
			if err != nil && code(t, err) != syncproto.CodeConflict {
				t.Errorf("round %d: %v, want conflict", round, err)
			}
		}
	}
}

func testDevicesScope(t *testing.T, open Opener) {
	e := seeded(t, open)
	ua := e.user("a", server.RoleInspector, xinfu)
	a := e.signIn(ua)
	b := e.signIn(e.user("b", server.RoleInspector, dingxia))
	// The city's and an admin's phones, whose users list both counties,
	// and a county office's: only the county office's is a county's.
	city := e.signIn(e.user("city", server.RoleCityOffice, xinfu, dingxia))
	admin := e.signIn(e.user("root", server.RoleAdmin, xinfu, dingxia))
	office := e.signIn(e.user("office", server.RoleCountyOffice, xinfu))
	for _, tc := range []struct {
		scope server.Scope
		want  []string
	}{
		{server.Scope{All: true}, []string{a.p.DeviceID, b.p.DeviceID, city.p.DeviceID, admin.p.DeviceID, office.p.DeviceID}},
		{server.Scope{Counties: []string{xinfu}}, []string{a.p.DeviceID, office.p.DeviceID}},
		{server.Scope{Counties: []string{yuanpin}}, nil},
	} {
		devs, err := e.st.Devices(e.ctx, tc.scope)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range devs {
			got = append(got, d.ID)
			if d.ID == a.p.DeviceID && (d.UserID != a.p.UserID || d.Username != "a" || d.UserName != "名a" || d.Name != "phone" ||
				!d.CreatedAt.Equal(t0) || d.RevokedAt != nil) {
				t.Errorf("device %+v", d)
			}
		}
		if !sameSet(got, tc.want) {
			t.Errorf("devices in %+v: %v, want %v", tc.scope, got, tc.want)
		}
	}
	// One device by its id reads as the list gives it, whoever's it is.
	all, err := e.st.Devices(e.ctx, server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range all {
		got, err := e.st.Device(e.ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("device %s: %+v %v, want %+v", want.ID, got, err, want)
		}
	}
	_, err = e.st.Device(e.ctx, uuid.NewString())
	wantCode(t, err, syncproto.CodeNotFound, "an unknown device")
	// One user's devices, a revoked one too (it still names the user's
	// past writes), none of another's.
	a2 := e.signIn(ua)
	if err := e.st.RevokeDevice(e.ctx, a2.p.DeviceID, t0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user string
		want []string
	}{
		{a.p.UserID, []string{a.p.DeviceID, a2.p.DeviceID}},
		{office.p.UserID, []string{office.p.DeviceID}},
		{"no-such-user", nil},
	} {
		got, err := e.st.DeviceIDs(e.ctx, tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if !sameSet(got, tc.want) {
			t.Errorf("DeviceIDs(%s): %v, want %v", tc.user, got, tc.want)
		}
	}
}

// deviceSessionCases: a phone's sign-in, refresh-token rotation and the
// ways its session ends.
var deviceSessionCases = []testCase{
	{"RegisterDevice", testRegisterDevice},
	{"RegisterNewDeviceAtOnce", testRegisterAtOnce},
	{"RotateRefresh", testRotateRefresh},
	{"SpentTokenReuseEndsSession", testRefreshReuse},
	{"SignOutAndRevoke", testSignOutRevoke},
	{"DisabledUser", testDisabledUser},
	{"OwnPasswordReplacesOnlyTheOneChecked", testReplacePassword},
}

// testReplacePassword: a user's own change stores the new hash only in
// place of the one they proved, on an enabled account, and ends their
// sessions as a reset does.
func testReplacePassword(t *testing.T, open Opener) {
	e := seeded(t, open)
	u := e.user("wang", server.RoleInspector, xinfu)
	hashOf := func() string {
		t.Helper()
		_, h, err := e.st.UserByUsername(e.ctx, "wang")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	wantCode(t, e.st.ReplaceUserPassword(e.ctx, "wang", "hash-other", "hash-new"), syncproto.CodeConflict, "a change from a hash no longer stored")
	if h := hashOf(); h != "hash-wang" {
		t.Fatalf("a refused change stored %q", h)
	}
	wantCode(t, e.st.ReplaceUserPassword(e.ctx, "nobody", "hash-wang", "hash-new"), syncproto.CodeNotFound, "an unknown user")
	if err := e.st.SetUserDisabled(e.ctx, "wang", true); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.st.ReplaceUserPassword(e.ctx, "wang", "hash-wang", "hash-new"), syncproto.CodeUserDisabled, "a disabled user's change")
	if err := e.st.SetUserDisabled(e.ctx, "wang", false); err != nil {
		t.Fatal(err)
	}
	d := e.signIn(u)
	if err := e.st.ReplaceUserPassword(e.ctx, "wang", "hash-wang", "hash-new"); err != nil {
		t.Fatal(err)
	}
	if h := hashOf(); h != "hash-new" {
		t.Errorf("the change stored %q", h)
	}
	if _, err := e.st.RotateRefresh(e.ctx, "refresh-"+d.p.DeviceID, "next", e.Now().Add(time.Hour), e.Now()); err == nil {
		t.Error("the change left a device's session working")
	}
}

func testRegisterDevice(t *testing.T, open Opener) {
	e := newEnv(t, open)
	u, other := e.user("wang", server.RoleInspector), e.user("li", server.RoleInspector)
	d := &server.Device{ID: uuid.NewString(), UserID: u.ID, Name: "华为", CreatedAt: t0}
	s, err := e.st.RegisterDevice(e.ctx, d, "h0", t0.Add(time.Hour))
	if err != nil || s != 0 {
		t.Fatalf("new device: session %d %v, want 0", s, err)
	}
	p, err := e.st.Principal(e.ctx, u.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != u.ID || p.Username != "wang" || p.Name != "名wang" || p.Role != server.RoleInspector || p.DeviceID != d.ID || p.Session != 0 {
		t.Errorf("principal %+v", p)
	}
	// Signing in again over a session not ended ends it (a new
	// generation: its tokens stop working) and replaces the token.
	d.CreatedAt = t0.Add(time.Minute)
	if s, err := e.st.RegisterDevice(e.ctx, d, "h1", t0.Add(time.Hour)); err != nil || s != 1 {
		t.Errorf("sign in again over a live session: session %d %v, want 1", s, err)
	}
	if p, err := e.st.Principal(e.ctx, u.ID, d.ID); err != nil || p.Session != 1 {
		t.Errorf("principal after signing in again: %+v %v, want session 1", p, err)
	}
	// After a sign-out (which ended the session) a sign-in keeps the
	// generation the sign-out gave.
	if err := e.st.SignOut(e.ctx, d.ID, t0.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	if s, err := e.st.RegisterDevice(e.ctx, d, "h1", t0.Add(time.Hour)); err != nil || s != 2 {
		t.Errorf("sign in after a sign-out: session %d %v, want 2 (the sign-out's)", s, err)
	}
	if _, err := e.st.RotateRefresh(e.ctx, "h1", "h2", t0.Add(2*time.Hour), t0.Add(2*time.Minute)); err != nil {
		t.Errorf("rotate the new token: %v", err)
	}
	// Another user may not take the device.
	_, err = e.st.RegisterDevice(e.ctx, &server.Device{ID: d.ID, UserID: other.ID, CreatedAt: t0}, "h9", t0.Add(time.Hour))
	wantCode(t, err, syncproto.CodeConflict, "device of another user")
	// Unknown user or device.
	_, err = e.st.Principal(e.ctx, u.ID, uuid.NewString())
	wantCode(t, err, syncproto.CodeTokenInvalid, "principal of an unknown device")
	_, err = e.st.Principal(e.ctx, other.ID, d.ID)
	wantCode(t, err, syncproto.CodeTokenInvalid, "principal of another user's device")
}

// testRegisterAtOnce: a new device signing in twice at once (a retry that
// reached another server) is registered once, both sign-ins succeeding;
// two users signing in on one new device at once: one has it, the other
// is answered conflict. Never an error of the store's own.
func testRegisterAtOnce(t *testing.T, open Opener) {
	e := newEnv(t, open)
	u, other := e.user("wang", server.RoleInspector), e.user("li", server.RoleInspector)
	for round := range 8 {
		id := uuid.NewString()
		users := []*server.User{u, u}
		if round%2 == 1 {
			users = []*server.User{u, other}
		}
		errs := make([]error, len(users))
		var wg sync.WaitGroup
		for i, usr := range users {
			wg.Go(func() {
				_, errs[i] = e.st.RegisterDevice(e.ctx, &server.Device{ID: id, UserID: usr.ID, Name: "手机", CreatedAt: t0}, fmt.Sprintf("h%d-%d", round, i), t0.Add(time.Hour))
			})
		}
		wg.Wait()
		owners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				owners++
				if _, err := e.st.Principal(e.ctx, users[i].ID, id); err != nil {
					t.Errorf("round %d: sign-in %d succeeded, but its principal: %v", round, i, err)
				}
			case server.ErrorCode(err) == syncproto.CodeConflict && users[0] != users[1]:
			default:
				t.Errorf("round %d: sign-in %d of %s: %v", round, i, users[i].Username, err)
			}
		}
		if want := map[bool]int{true: 2, false: 1}[users[0] == users[1]]; owners != want {
			t.Errorf("round %d: %d sign-ins succeeded, want %d", round, owners, want)
		}
	}
}

func testRotateRefresh(t *testing.T, open Opener) {
	e := newEnv(t, open)
	u := e.user("wang", server.RoleInspector)
	d := &server.Device{ID: uuid.NewString(), UserID: u.ID, CreatedAt: t0}
	if _, err := e.st.RegisterDevice(e.ctx, d, "h0", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ds, err := e.st.RotateRefresh(e.ctx, "h0", "h1", t0.Add(10*time.Hour), t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if ds != (server.DeviceSession{UserID: u.ID, DeviceID: d.ID, Session: 0}) {
		t.Errorf("rotated %+v", ds)
	}
	_, err = e.st.RotateRefresh(e.ctx, "nope", "x", t0.Add(10*time.Hour), t0.Add(time.Minute))
	wantCode(t, err, syncproto.CodeTokenInvalid, "unknown token")
	// h1 expires at t0+10h.
	_, err = e.st.RotateRefresh(e.ctx, "h1", "h2", t0.Add(20*time.Hour), t0.Add(10*time.Hour))
	wantCode(t, err, syncproto.CodeTokenExpired, "token at its expiry")
	if _, err := e.st.RotateRefresh(e.ctx, "h1", "h2", t0.Add(20*time.Hour), t0.Add(10*time.Hour-time.Millisecond)); err != nil {
		t.Errorf("token just before its expiry: %v", err)
	}
}

// testRefreshReuse follows sqlite's TestSpentRefreshTokens: a token spent
// within the session and presented again ends the session (reported with
// server.ErrRefreshReuse); after that, and for expired spent tokens, it is
// just invalid; signing in again starts a new family.
func testRefreshReuse(t *testing.T, open Opener) {
	e := newEnv(t, open)
	u := e.user("li", server.RoleInspector)
	d := &server.Device{ID: uuid.NewString(), UserID: u.ID, CreatedAt: t0}
	if _, err := e.st.RegisterDevice(e.ctx, d, "h0", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	session := func() int64 {
		t.Helper()
		p, err := e.st.Principal(e.ctx, u.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Session
	}
	rotate := func(old, new string, at time.Time) (server.DeviceSession, error) {
		return e.st.RotateRefresh(e.ctx, old, new, at.Add(10*time.Hour), at)
	}
	if _, err := rotate("h0", "h1", t0); err != nil { // h0 would expire at t0+1h
		t.Fatal(err)
	}
	if _, err := rotate("h1", "h2", t0.Add(2*time.Hour)); err != nil { // h1 would expire at t0+10h
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hash  string
		reuse       bool
		wantSession int64
	}{
		{"expired spent token", "h0", false, 0},
		{"unknown token", "nope", false, 0},
		{"spent token", "h1", true, 1},
		{"spent token again, session ended", "h1", false, 1},
		{"current token of the ended session", "h2", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := rotate(tc.hash, "x-"+tc.name, t0.Add(3*time.Hour))
			if code(t, err) != syncproto.CodeTokenInvalid || errors.Is(err, server.ErrRefreshReuse) != tc.reuse {
				t.Errorf("rotate: %v, want token_invalid (reuse %v)", err, tc.reuse)
			}
			if tc.reuse && ds != (server.DeviceSession{UserID: u.ID, DeviceID: d.ID, Session: 1}) {
				t.Errorf("reuse answered %+v, want the device's new session", ds)
			}
			if s := session(); s != tc.wantSession {
				t.Errorf("session %d, want %d", s, tc.wantSession)
			}
		})
	}
	s, err := e.st.RegisterDevice(e.ctx, d, "h3", t0.Add(30*time.Hour))
	if err != nil || s != 1 {
		t.Fatalf("sign in again: session %d, %v; want 1", s, err)
	}
	if _, err := rotate("h3", "h4", t0.Add(4*time.Hour)); err != nil {
		t.Errorf("rotate after signing in again: %v", err)
	}
	// The old family's spent token no longer ends anything.
	if _, err := rotate("h2", "h5", t0.Add(4*time.Hour)); errors.Is(err, server.ErrRefreshReuse) || code(t, err) != syncproto.CodeTokenInvalid {
		t.Errorf("old family's token after signing in again: %v", err)
	}
	if s := session(); s != 1 {
		t.Errorf("session %d after the old family's token, want 1", s)
	}
}

func testSignOutRevoke(t *testing.T, open Opener) {
	e := newEnv(t, open)
	u := e.user("wang", server.RoleInspector)
	d := &server.Device{ID: uuid.NewString(), UserID: u.ID, CreatedAt: t0}
	if _, err := e.st.RegisterDevice(e.ctx, d, "h0", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SignOut(e.ctx, d.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, err := e.st.Principal(e.ctx, u.ID, d.ID)
	if err != nil || p.Session != 1 {
		t.Errorf("after sign-out: %+v %v, want session 1", p, err)
	}
	_, err = e.st.RotateRefresh(e.ctx, "h0", "h1", t0.Add(time.Hour), t0.Add(2*time.Minute))
	wantCode(t, err, syncproto.CodeTokenInvalid, "refresh after sign-out")
	// Signing in again works, in the new session.
	if s, err := e.st.RegisterDevice(e.ctx, d, "h2", t0.Add(time.Hour)); err != nil || s != 1 {
		t.Errorf("sign in after sign-out: %d %v", s, err)
	}

	if err := e.st.RevokeDevice(e.ctx, d.ID, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = e.st.Principal(e.ctx, u.ID, d.ID)
	wantCode(t, err, syncproto.CodeDeviceRevoked, "principal of a revoked device")
	_, err = e.st.RotateRefresh(e.ctx, "h2", "h3", t0.Add(time.Hour), t0.Add(4*time.Minute))
	wantCode(t, err, syncproto.CodeDeviceRevoked, "refresh of a revoked device")
	_, err = e.st.RegisterDevice(e.ctx, d, "h4", t0.Add(time.Hour))
	wantCode(t, err, syncproto.CodeDeviceRevoked, "sign in on a revoked device")
	devs, err := e.st.Devices(e.ctx, server.Scope{All: true})
	if err != nil || len(devs) != 1 || devs[0].RevokedAt == nil || !devs[0].RevokedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("revoked device listed as %+v %v", devs, err)
	}
	// Revoking again keeps the first time; an unknown device is not found.
	if err := e.st.RevokeDevice(e.ctx, d.ID, t0.Add(time.Hour)); err != nil {
		t.Errorf("revoke again: %v", err)
	}
	if devs, _ := e.st.Devices(e.ctx, server.Scope{All: true}); devs[0].RevokedAt == nil || !devs[0].RevokedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("revoked again at %v", devs[0].RevokedAt)
	}
	wantCode(t, e.st.RevokeDevice(e.ctx, uuid.NewString(), t0), syncproto.CodeNotFound, "revoke an unknown device")

	// Reinstated (a revocation made by mistake): the device signs in
	// again, in a new session — the tokens it held stay ended.
	before, err := e.st.Devices(e.ctx, server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.ReinstateDevice(e.ctx, d.ID, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	p, err = e.st.Principal(e.ctx, u.ID, d.ID)
	if err != nil || p.Session <= 1 {
		t.Errorf("principal of a reinstated device: %+v %v, want a session after 1 (its tokens ended)", p, err)
	}
	_, err = e.st.RotateRefresh(e.ctx, "h2", "h5", t0.Add(3*time.Hour), t0.Add(2*time.Hour))
	wantCode(t, err, syncproto.CodeTokenInvalid, "the refresh token a reinstated device held")
	if _, err := e.st.RegisterDevice(e.ctx, d, "h6", t0.Add(3*time.Hour)); err != nil {
		t.Errorf("sign in on a reinstated device: %v", err)
	}
	if devs, _ := e.st.Devices(e.ctx, server.Scope{All: true}); len(devs) != 1 || devs[0].RevokedAt != nil || len(before) != 1 {
		t.Errorf("the reinstated device listed as %+v", devs)
	}
	wantCode(t, e.st.ReinstateDevice(e.ctx, d.ID, t0.Add(3*time.Hour)), syncproto.CodeConflict, "reinstate a device not revoked")
	wantCode(t, e.st.ReinstateDevice(e.ctx, uuid.NewString(), t0), syncproto.CodeNotFound, "reinstate an unknown device")
}

func testDisabledUser(t *testing.T, open Opener) {
	e := newEnv(t, open)
	u := e.user("wang", server.RoleInspector)
	d := &server.Device{ID: uuid.NewString(), UserID: u.ID, CreatedAt: t0}
	if _, err := e.st.RegisterDevice(e.ctx, d, "h0", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUserDisabled(e.ctx, "wang", true); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := e.st.UserByUsername(e.ctx, "wang"); !got.Disabled {
		t.Error("user not disabled")
	}
	_, err := e.st.Principal(e.ctx, u.ID, d.ID)
	wantCode(t, err, syncproto.CodeUserDisabled, "principal of a disabled user")
	// Disabling ended the session: enabling does not bring it back.
	if err := e.st.SetUserDisabled(e.ctx, "wang", false); err != nil {
		t.Fatal(err)
	}
	p, err := e.st.Principal(e.ctx, u.ID, d.ID)
	if err != nil || p.Session != 1 {
		t.Errorf("after enabling: %+v %v, want session 1", p, err)
	}
	_, err = e.st.RotateRefresh(e.ctx, "h0", "h1", t0.Add(time.Hour), t0.Add(time.Minute))
	wantCode(t, err, syncproto.CodeTokenInvalid, "refresh token of the ended session")
	// A refresh while disabled.
	if _, err := e.st.RegisterDevice(e.ctx, d, "h2", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUserDisabled(e.ctx, "wang", true); err != nil {
		t.Fatal(err)
	}
	_, err = e.st.RotateRefresh(e.ctx, "h2", "h3", t0.Add(time.Hour), t0.Add(time.Minute))
	if c := code(t, err); c != syncproto.CodeUserDisabled && c != syncproto.CodeTokenInvalid {
		t.Errorf("refresh of a disabled user: %v", err)
	}
	// A new password ends the session too.
	if err := e.st.SetUserDisabled(e.ctx, "wang", false); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUserPassword(e.ctx, "wang", "new-hash"); err != nil {
		t.Fatal(err)
	}
	if _, hash, _ := e.st.UserByUsername(e.ctx, "wang"); hash != "new-hash" {
		t.Errorf("password hash %q", hash)
	}
	if p, err := e.st.Principal(e.ctx, u.ID, d.ID); err != nil || p.Session != 3 {
		t.Errorf("after a new password: %+v %v, want session 3", p, err)
	}
	wantCode(t, e.st.SetUserDisabled(e.ctx, "nobody", true), syncproto.CodeNotFound, "disable nobody")
	wantCode(t, e.st.SetUserPassword(e.ctx, "nobody", "x"), syncproto.CodeNotFound, "password of nobody")
}

// consoleSessionCases: office-console sign-ins.
var consoleSessionCases = []testCase{
	{"Lifecycle", testConsoleSessions},
}

func testConsoleSessions(t *testing.T, open Opener) {
	e := newEnv(t, open)
	u := e.user("wang", server.RoleCountyOffice)
	d := e.signIn(u)
	st := e.st
	now := t0
	const idle = time.Hour
	newSession := func(id string, at time.Time) {
		t.Helper()
		if err := st.CreateConsoleSession(e.ctx, &server.ConsoleSession{ID: id, UserID: u.ID, CSRF: "c-" + id,
			CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour), UserAgent: "Firefox", IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(id string, at time.Time) bool {
		t.Helper()
		_, err := st.TouchConsoleSession(e.ctx, id, idle, at)
		if err != nil && code(t, err) != syncproto.CodeUnauthorized {
			t.Fatalf("touch %s: %v, want unauthorized", id, err)
		}
		return err != nil
	}
	newSession("a", now)
	newSession("b", now.Add(time.Millisecond))
	s, err := st.TouchConsoleSession(e.ctx, "a", idle, now.Add(50*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "a" || s.UserID != u.ID || s.Username != "wang" || s.CSRF != "c-a" || !s.CreatedAt.Equal(now) ||
		!s.LastSeenAt.Equal(now.Add(50*time.Minute)) || !s.ExpiresAt.Equal(now.Add(24*time.Hour)) || s.RevokedAt != nil ||
		s.UserAgent != "Firefox" || s.IP != "192.0.2.1" {
		t.Errorf("touched session %+v", s)
	}
	if refused("a", now.Add(100*time.Minute)) { // 50 min after its last use
		t.Error("a session in use refused")
	}
	if !refused("b", now.Add(61*time.Minute)) {
		t.Error("idle session accepted")
	}
	if !refused("a", now.Add(24*time.Hour)) {
		t.Error("session accepted at its absolute limit")
	}
	if !refused("nope", now) {
		t.Error("unknown session accepted")
	}

	newSession("c", now.Add(2*time.Millisecond))
	list, err := st.ConsoleSessions(e.ctx, "wang", idle, now.Add(3*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range list {
		got = append(got, s.ID)
	}
	// a was last used at +100 min: at +3ms its last use is in the future of
	// now, still within the idle limit.
	if !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Errorf("sessions %v, want newest first [c b a]", got)
	}
	if list, _ := st.ConsoleSessions(e.ctx, "wang", idle, now.Add(100*time.Minute)); len(list) != 1 || list[0].ID != "a" {
		t.Errorf("live sessions at +100min: %v, want [a]", list)
	}
	if err := st.RevokeConsoleSession(e.ctx, "c", now); err != nil {
		t.Fatal(err)
	}
	if !refused("c", now) {
		t.Error("revoked session accepted")
	}
	if err := st.RevokeConsoleSession(e.ctx, "c", now.Add(time.Minute)); err != nil {
		t.Errorf("revoke again: %v", err)
	}
	wantCode(t, st.RevokeConsoleSession(e.ctx, "zzz", now), syncproto.CodeNotFound, "revoke unknown")

	for i, end := range []func() error{
		func() error { return st.SetUserDisabled(e.ctx, "wang", true) },
		func() error { return st.SetUserPassword(e.ctx, "wang", "new-hash") },
	} {
		if err := st.SetUserDisabled(e.ctx, "wang", false); err != nil {
			t.Fatal(err)
		}
		id := string(rune('d' + i))
		newSession(id, now)
		before, err := st.Principal(e.ctx, u.ID, d.p.DeviceID)
		if err != nil {
			t.Fatal(err)
		}
		if err := end(); err != nil {
			t.Fatal(err)
		}
		if err := st.SetUserDisabled(e.ctx, "wang", false); err != nil {
			t.Fatal(err)
		}
		if !refused(id, now) {
			t.Error("session survived disabling or a new password")
		}
		after, err := st.Principal(e.ctx, u.ID, d.p.DeviceID)
		if err != nil || after.Session == before.Session {
			t.Errorf("device session not ended: %d → %+v %v", before.Session, after, err)
		}
	}
	if list, _ := st.ConsoleSessions(e.ctx, "wang", idle, now); len(list) != 0 {
		t.Errorf("sessions listed after disabling: %v", list)
	}
}
