package app

import (
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
