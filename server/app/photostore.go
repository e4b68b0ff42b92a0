package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/blobs3"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
)

// photoStoreSample is how many of the database's newest stored photos a
// server looks for in its photo store at start.
const photoStoreSample = 5

// checkPhotoStore says when a server's photo store holds none of the
// database's newest stored photos (Open refuses a server on a shared
// database so, and one on its own directory logs it): a server started
// without the deployment's --blobs (keeping photos in its own data
// directory) or with another bucket would answer every photo with an
// error and fail the photo jobs it takes from the shared queue. A
// database with no stored photo yet, or a store that holds any of them,
// passes. Errors reading the store are not a refusal (it was reachable a
// moment ago; the server says so at /readyz).
func (a *App) checkPhotoStore(ctx context.Context) error {
	sums, err := a.DB.StoredPhotoSums(ctx, photoStoreSample)
	if err != nil {
		return fmt.Errorf("photo store check: %w", err)
	}
	for _, sum := range sums {
		has, err := a.Blobs.Has(ctx, sum, server.VariantOriginal)
		if err != nil {
			a.Log.Warn("photo store check could not run", "store", a.photoStoreName(), "err", err)
			return nil
		}
		if has {
			return nil
		}
	}
	if len(sums) == 0 {
		return nil
	}
	missing := fmt.Sprintf("photo store %s holds none of the database's %d newest photos (%s…)", a.photoStoreName(), len(sums), sums[0][:12])
	switch _, shared := a.DB.(*postgres.DB); {
	case !shared:
		return fmt.Errorf("%s: copy the blobs directory kept with the backup into the data directory (fieldsync check lists the photos missing)", missing)
	case a.Cfg.Blobs == "":
		// One server on PostgreSQL may keep its photos in its data
		// directory (ops probe: told only of s3://).
		return fmt.Errorf("%s: it is not this database's photo store; this server has no --blobs (FIELDSYNC_BLOBS): "+
			"give it the deployment's photo store, s3://…, as the database's other servers have it; "+
			"a server alone on this database keeps its photos in the data directory: copy the blobs directory kept with the backup into %s", missing, a.Cfg.DataDir)
	default:
		return fmt.Errorf("%s: it is not this database's photo store; give this server the same --blobs (FIELDSYNC_BLOBS) as the database's other servers; "+
			"if the photos were lost and this store replaces theirs, copy the backup's photos into it first", missing)
	}
}

// photoStoreName says which photo store the server uses, for messages.
func (a *App) photoStoreName() string {
	if s, ok := a.Blobs.(*blobs3.Store); ok {
		return "s3://" + strings.TrimSuffix(s.Bucket()+"/"+s.Prefix(), "/")
	}
	return filepath.Join(a.Cfg.DataDir, "blobs")
}
