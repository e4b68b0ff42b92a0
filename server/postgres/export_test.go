package postgres

// Migrations are the embedded migrations, for the tests.
var Migrations = migrationFS
