package app

import (
	"flag"
	"strings"
	"testing"
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
