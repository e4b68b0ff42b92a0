package sqlite

import "database/sql"

// Writer returns the store's writer connection pool, the one the server
// writes through, for tests that check what it may not do.
func Writer(db *DB) *sql.DB { return db.write }
