// Package postgres is fieldsync's store on PostgreSQL (pgx v5, pgxpool):
// the whole server.Store contract, server.KeyStore and server.LoginStore,
// with the behaviour of the SQLite store (package sqlite), so that several
// stateless servers can share one database.
//
// # Schema
//
// The schema is created by embedded numbered migrations
// (migrations/NNN_*.sql), applied by Open in one transaction under an
// advisory lock, so that servers starting together do not race; applied
// names are kept in schema_migrations. The tables and columns are those of
// the SQLite store's final schema. JSON values are kept as text, byte for
// byte, and cast to jsonb where a query looks inside them; every text
// column uses the "C" collation so that text sorts bytewise, as in SQLite.
//
// # The change feed never skips a change
//
// Pulls page through the change feed by sequence number (seq > cursor). If
// two servers each took a number and committed in the other order, a pull
// between the two commits would see the higher number, move its cursor
// past the lower one, and skip that change for good. So sequence numbers
// must become visible in the order they were assigned:
//
//   - Every write transaction that assigns sequence numbers (Update) first
//     takes pg_advisory_xact_lock(feedLock), one constant key shared by
//     every server. Writers are thus serialized across servers.
//   - Inside the lock the transaction reads the feed's counter (meta row
//     'seq'), numbers its records from it, and stores the new value before
//     committing. Under READ COMMITTED each statement sees every commit
//     that came before it, so the counter it reads is the latest.
//   - PostgreSQL makes a transaction's changes visible (removes it from the
//     running transactions in the proc array) before it releases its locks,
//     advisory locks included. The next writer gets the lock only after
//     the previous commit is visible, so commits, and the numbers they
//     carry, become visible in increasing order.
//   - Changes reads every table in one REPEATABLE READ snapshot. A
//     snapshot therefore holds every sequence number up to some n and none
//     beyond it: a page ending at n can never be followed by a commit of a
//     number below n.
//
// A server that dies holding the lock loses its connection, and the
// database ends its transaction and frees the lock; one that stalls
// between statements has its transaction ended after idleWriteTimeout.
//
// The cost is that writes do not run in parallel, as with SQLite; a write
// holds the lock for the few milliseconds of one batch. Writes that assign
// no sequence number (sessions, devices, users) do not take the lock.
package postgres
