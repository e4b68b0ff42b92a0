// Package storetest is the conformance suite of the store contract
// (server.Store): the behaviour every database fieldsync runs on must have,
// checked through the domain layer as the phones and the office use it
// (server.Syncer over the store) and through the store's own reads.
//
// A store package runs it from a test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t testing.TB) server.Store { return openFresh(t) })
//	}
//
// and, if it can open one database twice, RunReopen for what must survive
// a restart. What the contract cannot see, a store's own tables, is
// checked once here too: SpentTokensPruned and SchemaMatchesCatalog take a
// function that reads them in the store's SQL. Inspector signs a phone in
// for a store's own tests and benchmarks. Every subtest opens its own empty store, so they are
// independent and may run against a shared database server. Time is the
// suite's own (a fixed clock each subtest advances), never the machine's,
// and every time it stores is in whole milliseconds.
//
// Where the contract names no order the suite compares sets. Orders it
// does assert are the contract's: the feed by seq; inspections, the queue
// and roadside checks newest first; users by username; tasks and progress
// rows by id; conflicts and console sessions newest first; sites by
// county, then name. Text is ordered as SQLite's BINARY collation orders
// it (code points), and Search and Sites match ASCII letters in any case
// and treat % and _ literally.
package storetest
