package app

import (
	"flag"
	"strings"
	"testing"
	"time"
)

// TestValidateTileURL: a tile URL the console could not load (or the page's
// Content-Security-Policy would block) is refused at start, not found out
// by an office looking at an empty map.
func TestValidateTileURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // "" when valid
	}{
		{"", ""},
		{"https://tiles.example.cn/{z}/{x}/{y}.png", ""},
		{"http://tiles.lan:8080/maps/{z}/{y}/{x}.png?scale=2", ""},
		{"//tiles.example.cn/{z}/{x}/{y}.png", "http:// or https://"},
		{"ftp://tiles.example.cn/{z}/{x}/{y}.png", "http:// or https://"},
		{"https:///{z}/{x}/{y}.png", "http:// or https://"},
		{"https://tiles.example.cn/{z}/{x}.png", "lacks {y}"},
		{"https://tiles.example.cn/tile.png", "lacks {z}"},
	} {
		c := DefaultConfig()
		c.DataDir = t.TempDir()
		c.TileURL = tc.url
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want one saying %q", tc.url, err, tc.want)
		}
	}
}

// TestValidateTrustedProxies: each trusted proxy is an address or a range.
func TestValidateTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		proxies []string
		ok      bool
	}{
		{nil, true},
		{[]string{"127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"}, true},
		{[]string{"proxy.lan"}, false},
		{[]string{"10.0.0.0/33"}, false},
	} {
		c := DefaultConfig()
		c.DataDir = t.TempDir()
		c.TrustedProxies = tc.proxies
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%v: %v, want ok=%v", tc.proxies, err, tc.ok)
		}
	}
	if got := SplitList(" 10.0.0.1, ,192.168.0.0/16 "); len(got) != 2 || got[0] != "10.0.0.1" || got[1] != "192.168.0.0/16" {
		t.Errorf("SplitList: %q", got)
	}
}

// TestUploadQuotaAndGraceOptions: the quota and the grace period come from
// flags over FIELDSYNC_* variables over the defaults, and nonsense values
// are refused at start.
func TestUploadQuotaAndGraceOptions(t *testing.T) {
	parse := func(env map[string]string, args ...string) Config {
		t.Helper()
		c := DefaultConfig()
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		c.RegisterFlags(fs, func(k string) string { return env[k] })
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := parse(nil); c.UploadQuota != 200<<20 || c.UploadGrace != 7*24*time.Hour {
		t.Errorf("defaults: quota %d, grace %s", c.UploadQuota, c.UploadGrace)
	}
	env := map[string]string{"FIELDSYNC_UPLOAD_QUOTA": "104857600", "FIELDSYNC_UPLOAD_GRACE": "72h"}
	if c := parse(env); c.UploadQuota != 100<<20 || c.UploadGrace != 72*time.Hour {
		t.Errorf("environment: quota %d, grace %s", c.UploadQuota, c.UploadGrace)
	}
	if c := parse(env, "--upload-quota", "0", "--upload-grace", "48h"); c.UploadQuota != 0 || c.UploadGrace != 48*time.Hour {
		t.Errorf("flags over the environment: quota %d, grace %s", c.UploadQuota, c.UploadGrace)
	}
	for _, tc := range []struct {
		quota int64
		grace time.Duration
		want  string // "" when valid
	}{
		{0, time.Hour, ""},
		{25 << 20, time.Hour, ""},
		{1 << 20, time.Hour, "upload-quota"},
		{200 << 20, time.Minute, "upload-grace"},
	} {
		c := DefaultConfig()
		c.UploadQuota, c.UploadGrace = tc.quota, tc.grace
		err := c.Validate()
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("quota %d, grace %s: %v, want an error about %q", tc.quota, tc.grace, err, tc.want)
		}
	}
}

// TestPhotoDecodeMemory: the decode budget comes from the flag, else the
// environment, else 256 MiB, and is at least 32 MiB.
func TestPhotoDecodeMemory(t *testing.T) {
	for _, tc := range []struct {
		env, flag string
		want      int64
		ok        bool
	}{
		{"", "", 256 << 20, true},
		{"536870912", "", 512 << 20, true},
		{"536870912", "134217728", 128 << 20, true},
		{"", "1048576", 1 << 20, false},
	} {
		c := DefaultConfig()
		c.DataDir = t.TempDir()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.RegisterFlags(fs, func(name string) string {
			if name == "FIELDSYNC_PHOTO_DECODE_MEMORY" {
				return tc.env
			}
			return ""
		})
		var args []string
		if tc.flag != "" {
			args = []string{"--photo-decode-memory", tc.flag}
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); c.PhotoDecodeMemory != tc.want || (err == nil) != tc.ok {
			t.Errorf("env %q flag %q: %d (%v), want %d ok=%v", tc.env, tc.flag, c.PhotoDecodeMemory, err, tc.want, tc.ok)
		}
	}
}

// TestDatabaseAndBlobsOptions: --database and --blobs come from flags over
// FIELDSYNC_DATABASE and FIELDSYNC_BLOBS, default to the data directory,
// and anything but a PostgreSQL URL or an s3:// URL is refused at start.
func TestDatabaseAndBlobsOptions(t *testing.T) {
	env := map[string]string{"FIELDSYNC_DATABASE": "postgres://db.lan/fieldsync", "FIELDSYNC_BLOBS": "s3://photos?endpoint=http://s3.lan:9000"}
	for _, tc := range []struct {
		args          []string
		env           map[string]string
		database, bl  string
		wantErrSubstr string
	}{
		{nil, nil, "", "", ""},
		{nil, env, env["FIELDSYNC_DATABASE"], env["FIELDSYNC_BLOBS"], ""},
		{[]string{"--database", "postgresql://other/x", "--blobs", "s3://b"}, env, "postgresql://other/x", "s3://b", ""},
		{[]string{"--database", "mysql://db/x"}, nil, "mysql://db/x", "", "PostgreSQL URL"},
		{[]string{"--database", "/var/lib/fieldsync.db"}, nil, "/var/lib/fieldsync.db", "", "PostgreSQL URL"},
		{[]string{"--blobs", "/srv/photos"}, nil, "", "/srv/photos", "s3:// URL"},
		{[]string{"--blobs", "gs://bucket"}, nil, "", "gs://bucket", "s3:// URL"},
	} {
		c := DefaultConfig()
		c.DataDir = t.TempDir()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.RegisterFlags(fs, func(k string) string { return tc.env[k] })
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if c.Database != tc.database || c.Blobs != tc.bl {
			t.Errorf("%v: database %q blobs %q, want %q %q", tc.args, c.Database, c.Blobs, tc.database, tc.bl)
		}
		err := c.Validate()
		switch {
		case tc.wantErrSubstr == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.wantErrSubstr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErrSubstr)):
			t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.wantErrSubstr)
		}
	}
}

// TestDebugAddr: the profiler listens only where asked, on a loopback
// address, and serves Go's profiles there (never on the API's port).
func TestDebugAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"", true}, {"127.0.0.1:6060", true}, {"localhost:6060", true}, {"[::1]:6060", true},
		{"0.0.0.0:6060", false}, {":6060", false}, {"10.0.0.5:6060", false}, {"6060", false},
	} {
		c := DefaultConfig()
		c.DataDir = t.TempDir()
		c.DebugAddr = tc.addr
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}

// TestValidateBounds: the access token lifetime, the clock lead allowed
// and the queues have bounds (an access token of a thousand hours, a lead
// of a million hours — which let a phone's stamp win for a century —, a
// queue of -2, were taken).
func TestValidateBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
		ok   bool
	}{
		{"access-ttl 15m", func(c *Config) { c.AccessTTL = 15 * time.Minute }, true},
		{"access-ttl 24h", func(c *Config) { c.AccessTTL = MaxAccessTTL }, true},
		{"access-ttl 1000h", func(c *Config) { c.AccessTTL = 1000 * time.Hour }, false},
		{"cors origins", func(c *Config) { c.CORSOrigins = []string{"capacitor://localhost", "https://localhost"} }, true},
		{"cors origin wildcard", func(c *Config) { c.CORSOrigins = []string{"*"} }, false},
		{"cors origin with a path", func(c *Config) { c.CORSOrigins = []string{"https://app.example.cn/app"} }, false},
		{"access-ttl 30s", func(c *Config) { c.AccessTTL = 30 * time.Second }, false},
		{"max-skew 24h", func(c *Config) { c.MaxSkew = 24 * time.Hour }, true},
		{"max-skew 25h", func(c *Config) { c.MaxSkew = 25 * time.Hour }, false},
		{"max-skew 1000000h", func(c *Config) { c.MaxSkew = 1000000 * time.Hour }, false},
		{"max-skew 500ms", func(c *Config) { c.MaxSkew = 500 * time.Millisecond }, false},
		{"push-queue -1", func(c *Config) { c.Push.Queue = -1 }, true},
		{"push-queue -2", func(c *Config) { c.Push.Queue = -2 }, false},
		{"pull-queue -5", func(c *Config) { c.Pull.Queue = -5 }, false},
		{"bcrypt-cost 0 (default)", func(c *Config) { c.BcryptCost = 0 }, true},
		{"bcrypt-cost 4", func(c *Config) { c.BcryptCost = 4 }, true},
		{"bcrypt-cost 12", func(c *Config) { c.BcryptCost = 12 }, true},
		{"bcrypt-cost 3", func(c *Config) { c.BcryptCost = 3 }, false},
		{"bcrypt-cost 32", func(c *Config) { c.BcryptCost = 32 }, false},
		{"bcrypt-cost -1", func(c *Config) { c.BcryptCost = -1 }, false},
	} {
		c := DefaultConfig()
		c.DataDir = t.TempDir()
		tc.set(&c)
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
