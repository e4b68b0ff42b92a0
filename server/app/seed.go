package app

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
)

// LoadDemo adds the demo users (skipping usernames that exist), sites and
// the plan's roadside vehicle checks (demovehicles.go), and with
// Config.DemoMonth a month of field work (demomonth.go), whose photo bytes
// Serve uploads in the background.
func (a *App) LoadDemo(ctx context.Context) error {
	demo, err := seeds.LoadDemo()
	if err != nil {
		return err
	}
	if err := a.loadDemoBase(ctx, demo); err != nil {
		return err
	}
	if !a.Cfg.DemoMonth {
		return nil
	}
	set, err := seeds.Load()
	if err != nil {
		return err
	}
	return a.loadDemoMonth(ctx, set, demo)
}

// loadDemoBase adds the demo users, sites and roadside vehicle checks
// that do not exist yet. Those that do are left as they are: phones and
// offices may have changed them since (a site renamed on a phone), and a
// restart must not write the demo's values over theirs.
func (a *App) loadDemoBase(ctx context.Context, demo *seeds.Demo) error {
	if err := a.addDemoUsers(ctx, demo.Users); err != nil {
		return err
	}
	return a.Syncer.Store.Update(ctx, func(tx server.WriteTx) error {
		create := func(entity, id, county string, values map[string]any) error {
			if r, err := tx.Get(ctx, server.EntityByName(entity), id); err != nil || r != nil {
				return err
			}
			if err := a.Syncer.Upsert(ctx, tx, entity, id, county, values); err != nil {
				return fmt.Errorf("%s %s: %w", entity, id, err)
			}
			return nil
		}
		for _, st := range demo.Sites {
			if err := create(syncproto.EntitySite, st.ID, st.County, map[string]any{
				"county": st.County, "kind": st.Kind, "name": st.Name, "address": st.Address,
				"lon": st.Lon, "lat": st.Lat, "crs": "wgs84", "radius_m": st.RadiusM, "active": true,
			}); err != nil {
				return err
			}
		}
		for _, v := range demoVehicleChecks() {
			if err := create(syncproto.EntityVehicleCheck, v.id, v.county, v.values); err != nil {
				return err
			}
		}
		return nil
	})
}

// addDemoUsers creates the demo accounts that do not exist yet. A
// password hash takes a good part of a core for a quarter of a second, so
// the new accounts are hashed on every core at once.
func (a *App) addDemoUsers(ctx context.Context, users []seeds.DemoUser) error {
	existing, err := a.DB.Users(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, u := range existing {
		have[u.Username] = true
	}
	errs := make([]error, len(users))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, u := range users {
		if have[u.Username] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := a.AddUser(ctx, u.Username, u.Password, u.DisplayName, server.Role(u.Role), u.Counties)
			if err != nil && server.ErrorCode(err) != syncproto.CodeConflict {
				errs[i] = fmt.Errorf("user %s: %w", u.Username, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// DemoUsers returns the demo accounts, for printing how to log in.
func DemoUsers() ([]seeds.DemoUser, error) {
	d, err := seeds.LoadDemo()
	if err != nil {
		return nil, err
	}
	return d.Users, nil
}

// DemoLogin is a demo account as the store holds it now.
type DemoLogin struct {
	seeds.DemoUser
	// Changed: the account's password is no longer the demo's (an admin
	// reset it), or the account is not the demo's (made before the demo
	// with that name); Disabled: it is disabled.
	Changed, Disabled bool
}

// DemoLogins returns the demo accounts with what became of them in the
// store, for printing how to log in: a database that outlived its first
// start (a restart, a migration) may have had their passwords changed,
// and printing the demo's would tell an operator wrong ones.
func (a *App) DemoLogins(ctx context.Context) ([]DemoLogin, error) {
	users, err := DemoUsers()
	if err != nil {
		return nil, err
	}
	out := make([]DemoLogin, len(users))
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			out[i].DemoUser = u
			got, hash, err := a.DB.UserByUsername(ctx, u.Username)
			if err != nil {
				if server.ErrorCode(err) == syncproto.CodeNotFound {
					out[i].Changed = true
					return
				}
				errs[i] = err
				return
			}
			out[i].Disabled = got.Disabled
			out[i].Changed = bcrypt.CompareHashAndPassword([]byte(hash), []byte(u.Password)) != nil
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
