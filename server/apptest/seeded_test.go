package apptest

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
)

// TestSeededCopyIsAFirstStart: a server started from the seeded copy
// holds what one that seeded from nothing holds — every record with the
// same values, the same users — and only a default server starts from it.
func TestSeededCopyIsAFirstStart(t *testing.T) {
	copied := Start(t)
	if _, err := os.Stat(copied.Dir); err != nil {
		t.Fatal(err)
	}
	fresh := StartConfig(t, testConfig(t, nil)) // seeds from nothing
	type rec struct {
		Entity, ID, County string
		Deleted            bool
		Fields             map[string]json.RawMessage
	}
	read := func(s *Server) ([]rec, []string) {
		t.Helper()
		recs, more, err := s.App.DB.Changes(context.Background(), server.Scope{All: true}, 0, 1<<30)
		if err != nil || more {
			t.Fatalf("changes: %v (more %v)", err, more)
		}
		var out []rec
		for _, r := range recs {
			f := map[string]json.RawMessage{}
			for name, st := range r.State.Fields {
				f[name] = st.Value
			}
			out = append(out, rec{r.Entity.Name, r.ID, r.County, r.State.IsDeleted(), f})
		}
		slices.SortFunc(out, func(a, b rec) int {
			return cmp.Or(cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.ID, b.ID))
		})
		users, err := s.App.DB.Users(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range users {
			b, _ := json.Marshal(struct {
				Name, Display, Role string
				Counties            []string
			}{u.Username, u.DisplayName, string(u.Role), u.Counties})
			names = append(names, string(b))
		}
		slices.Sort(names)
		return out, names
	}
	a, au := read(copied)
	b, bu := read(fresh)
	if len(a) == 0 || len(au) == 0 {
		t.Fatalf("the copy holds %d records and %d users", len(a), len(au))
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("the copy's %d records differ from a first start's %d", len(a), len(b))
	}
	if !slices.Equal(au, bu) {
		t.Errorf("the copy's users %v, a first start's %v", au, bu)
	}
	// Users sign in on the copy with the demo's passwords.
	copied.Login(Inspector)

	// A default server starts from the copy; one whose seeding differs
	// starts from nothing.
	cfg, dir := newConfig(t, nil)
	startSeeded(t, &cfg, dir)
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		t.Errorf("a default server does not start from the copy: %v", err)
	}
	for name, opt := range map[string]func(*app.Config){
		"demo month": func(c *app.Config) { c.DemoMonth, c.DemoDays = true, 1 },
		"no demo":    func(c *app.Config) { c.Demo = false },
	} {
		cfg, dir := newConfig(t, []func(*app.Config){opt})
		startSeeded(t, &cfg, dir)
		if _, err := os.Stat(cfg.DBPath()); err == nil {
			t.Errorf("%s: started from the seeded copy", name)
		}
	}
}
