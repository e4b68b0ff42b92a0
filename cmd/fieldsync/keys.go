package main

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"
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
			tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KID\tCREATED\tUSE")
			for i, k := range keys {
				use := "verifies"
				if i == 0 {
					use = "signs, verifies"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.CreatedAt.Local().Format(time.DateTime), use)
			}
			return tw.Flush()
		})
	}
}

// keysRotateCmd adds a new signing key: every server signs with it within
// auth.SigningSwitch, and tokens signed by the older keys keep working until
// the older keys are retired (--retire-older-than here, or keys retire).
func keysRotateCmd(c *command) {
	retire := c.fs.Duration("retire-older-than", 0, "also remove the keys created longer ago than this (never the newest); 0 keeps them")
	c.run = func(ctx context.Context) error {
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
				return retireKeys(ctx, c, a, now.Add(-*retire))
			}
			return nil
		})
	}
}

// keysRetireCmd removes the signing keys created before a limit, except
// the newest (and, right after a rotation, the key before it, which
// servers may still sign with): the access tokens they signed stop working
// on every server within seconds (auth.SigningSwitch).
func keysRetireCmd(c *command) {
	olderThan := c.fs.Duration("older-than", 0, "remove the keys created longer ago than this (never the newest)")
	c.run = func(ctx context.Context) error {
		if *olderThan <= 0 {
			return fmt.Errorf("want --older-than, e.g. 1h (longer than the access token lifetime %s keeps tokens of the last key alive)", c.cfg.AccessTTL)
		}
		return c.withStore(ctx, func(a *app.App) error {
			return retireKeys(ctx, c, a, time.Now().Add(-*olderThan))
		})
	}
}

func retireKeys(ctx context.Context, c *command, a *app.App, before time.Time) error {
	n, kept, err := auth.RetireSigningKeys(ctx, a.DB, before, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "removed %d signing keys created before %s\n", n, before.Local().Format(time.DateTime))
	if !kept.IsZero() {
		fmt.Fprintf(c.stdout, "kept the key before the newest: servers may still sign with it until %s; retire it after that\n",
			kept.Local().Format(time.DateTime))
	}
	return nil
}
