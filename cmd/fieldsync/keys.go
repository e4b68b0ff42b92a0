package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/auth"
)

func init() {
	commands["keys list"] = keysListCmd
	commands["keys rotate"] = keysRotateCmd
	commands["keys retire"] = keysRetireCmd
}

// keysListCmd lists the token signing keys (never their bytes), newest
// (the one that signs) first.
func keysListCmd(c *command) {
	c.run = func(ctx context.Context) error {
		return c.withStore(ctx, func(a *app.App) error {
			keys, err := a.DB.SigningKeys(ctx)
			if err != nil {
				return err
			}
			var t table
			t.row("KID", "CREATED", "USE")
			for i, k := range keys {
				use := "verifies"
				if i == 0 {
					use = "signs, verifies"
				}
				t.row(k.ID, chinaTime(k.CreatedAt), use)
			}
			return t.write(c.stdout)
		})
	}
}

// keysRotateCmd adds a new signing key: every server signs with it within
// auth.SigningSwitch, and tokens signed by the older keys keep working until
// the older keys are retired (--retire-older-than here, or keys retire).
func keysRotateCmd(c *command) {
	c.creates = true // a store no server started on yet takes the legacy key first
	c.uses = []string{"access-ttl"}
	retire := c.fs.Duration("retire-older-than", 0, "also remove the keys that stopped signing longer ago than this (never the newest); 0 keeps them")
	force := forceFlag(c)
	c.run = func(ctx context.Context) error {
		if err := checkRetire(c, *retire, *force); err != nil {
			return err
		}
		return c.withStore(ctx, func(a *app.App) error {
			now := time.Now()
			// A store no server started on yet takes the legacy key first,
			// so that the tokens it signed keep working.
			if _, err := auth.EnsureSigningKey(ctx, a.DB, filepath.Join(c.cfg.DataDir, "jwt.key"), now); err != nil {
				return err
			}
			k, err := auth.RotateSigningKey(ctx, a.DB, now)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "added signing key %s; every server signs with it within %s\n", k.ID, auth.SigningSwitch)
			if *retire > 0 {
				return retireKeys(ctx, c, a, *retire)
			}
			return nil
		})
	}
}

// keysRetireCmd removes the signing keys that stopped signing longer ago
// than a limit (auth.RetireSigningKeys): with the limit at least the access
// token lifetime, no token still valid is ended; a shorter one (a key that
// leaked) ends the tokens they signed on every server within seconds.
func keysRetireCmd(c *command) {
	c.uses = []string{"access-ttl"}
	olderThan := c.fs.Duration("older-than", 0, "remove the keys that stopped signing longer ago than this (never the newest); at least the access token lifetime ends no valid token")
	force := forceFlag(c)
	c.run = func(ctx context.Context) error {
		if *olderThan <= 0 {
			given := false
			c.fs.Visit(func(f *flag.Flag) { given = given || f.Name == "older-than" })
			if given {
				return fmt.Errorf("--older-than %s: want a duration above 0, e.g. 1h (at least the access token lifetime %s ends no valid token)", *olderThan, c.cfg.AccessTTL)
			}
			return fmt.Errorf("want --older-than, e.g. 1h (at least the access token lifetime %s ends no valid token)", c.cfg.AccessTTL)
		}
		if err := checkRetire(c, *olderThan, *force); err != nil {
			return err
		}
		return c.withStore(ctx, func(a *app.App) error {
			return retireKeys(ctx, c, a, *olderThan)
		})
	}
}

// forceFlag is the flag that lets a retirement end valid tokens.
func forceFlag(c *command) *bool {
	return c.fs.Bool("force", false, "retire keys younger than the access token lifetime anyway, ending the valid tokens they signed (a key that leaked)")
}

// checkRetire refuses, unless forced, a retirement that would end access
// tokens still valid: a mistyped duration would otherwise sign out every
// phone, whose inspectors must then type their passwords in the field.
func checkRetire(c *command, olderThan time.Duration, force bool) error {
	if olderThan <= 0 || olderThan >= c.cfg.AccessTTL || force {
		return nil
	}
	return fmt.Errorf("%s is shorter than the access token lifetime %s: the valid tokens of the keys it removes would stop working at once, and their phones would have to sign in again with a password; nothing was removed (for a key that leaked, add --force)",
		olderThan, c.cfg.AccessTTL)
}

func retireKeys(ctx context.Context, c *command, a *app.App, olderThan time.Duration) error {
	n, next, err := auth.RetireSigningKeys(ctx, a.DB, olderThan, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "removed %d signing keys that stopped signing more than %s ago\n", n, max(olderThan, auth.SigningSwitch))
	if olderThan < auth.SigningSwitch {
		fmt.Fprintf(c.stdout, "(a key that stopped signing less than %s ago is always kept: servers that have not read the keys since may still sign with it)\n", auth.SigningSwitch)
	}
	if n > 0 && olderThan < c.cfg.AccessTTL {
		fmt.Fprintf(c.stdout, "warning: %s is shorter than the access token lifetime %s: tokens those keys signed that are still valid stop working now (their phones must sign in again)\n",
			olderThan, c.cfg.AccessTTL)
	}
	if !next.IsZero() {
		fmt.Fprintf(c.stdout, "kept the keys that stopped signing more recently; the next may be retired after %s\n", chinaTime(next))
	}
	return nil
}
