// Package sqlstore is what the SQL stores (server/sqlite and
// server/postgres) share: the row codec of synced records, the codec of the
// hlcs column, and the SQL text both dialects run. It opens no database; each
// store runs the statements and hands the rows it reads to the codec.
package sqlstore
