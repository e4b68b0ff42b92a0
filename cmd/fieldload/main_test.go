package main

import (
	"context"
	"strings"
	"testing"
)

// TestMainRefusesOtherTargets: fieldload exits with an error, without
// sending anything, for a server that is not on a loopback address.
func TestMainRefusesOtherTargets(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--server", "http://192.0.2.10:8080", "--devices", "1", "--duration", "1s"}, 1, "not a loopback address"},
		{[]string{"--devices", "x"}, 2, "invalid value"},
		{[]string{"--server", "http://127.0.0.1:1", "--devices", "0"}, 1, "devices must be at least 1"},
		{[]string{"--server", "http://127.0.0.1:1", "--rhythm", "lazy"}, 1, `rhythm "lazy"`},
		{[]string{"--server", "http://127.0.0.1:1", "--rhythm", "realistic", "--compress", "0.5"}, 1, "compress must be at least 1"},
	} {
		var out, errb strings.Builder
		if code := Main(context.Background(), tc.args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, errb.String(), tc.code, tc.msg)
		}
	}
}
