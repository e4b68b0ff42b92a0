package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server/app"
)

// epochRenewCmd gives a database a new epoch, after it was restored by
// other means than fieldsync restore (pg_restore, a file copied back):
// every phone's cursor is then refused with resync_required, and phones
// pull everything again and send what the database lacks (README,
// Operating). A server running on the database keeps the epoch it read
// at its start: on SQLite the data directory's lock refuses the command
// while one runs; on PostgreSQL every server must be stopped first.
func epochRenewCmd(c *command) {
	c.run = func(ctx context.Context) error {
		if c.cfg.Database == "" {
			lock, _, err := app.LockDataDir(c.cfg.DataDir)
			if err != nil {
				return fmt.Errorf("%w (stop the server first)", err)
			}
			defer lock.Close()
		}
		return c.withStore(ctx, func(a *app.App) error {
			r, ok := a.DB.(interface {
				RenewEpoch(context.Context) (string, error)
			})
			if !ok {
				return errors.New("this store cannot renew its epoch")
			}
			old := a.DB.Epoch()
			e, err := r.RenewEpoch(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "epoch %s → %s: every phone pulls everything again at its next sync (resync_required) and sends what the database lacks\n", old, e)
			if c.cfg.Database != "" {
				fmt.Fprintln(c.stdout, "start the servers now; one left running kept the old epoch: restart it")
			}
			return nil
		})
	}
}
