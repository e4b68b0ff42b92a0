package sqlite

import "database/sql"

// Writer returns the store's writer connection pool, the one the server
// writes through, for tests that check what it may not do.
func Writer(db *DB) *sql.DB { return db.write }

// BandsBuilt returns the channel the store's band filter closes once it
// has read the photo index written before the store opened (a lookup
// starts that read).
func BandsBuilt(db *DB) <-chan struct{} { return db.bands.Built() }

// Dialect is the store's SQL dialect, for tests of the plans of the
// statements it builds.
var Dialect = dialect
