package postgres_test

import (
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/postgres"
)

// TestConnectTimeout: a connection to the database is bounded by
// ConnectTimeout unless the URL gives its own connect_timeout, so that a
// host that takes it and never answers holds nothing for ever.
func TestConnectTimeout(t *testing.T) {
	for dsn, want := range map[string]time.Duration{
		"postgres://postgres@127.0.0.1:5432/fieldsync":                   postgres.ConnectTimeout,
		"postgres://postgres@127.0.0.1:5432/fieldsync?connect_timeout=3": 3 * time.Second,
		"host=127.0.0.1 user=postgres dbname=fieldsync":                  postgres.ConnectTimeout,
	} {
		cfg, err := postgres.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.ConnConfig.ConnectTimeout; got != want {
			t.Errorf("%s: connect timeout %s, want %s", dsn, got, want)
		}
	}
}
