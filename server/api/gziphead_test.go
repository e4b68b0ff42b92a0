package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
)

// TestGzipHeadFinish: a page's head gzipped ahead (encodePage), finished
// with a tail of any length (none, a server_hlc, more than one stored
// block holds), is one gzip member that unzips to the head and the tail.
func TestGzipHeadFinish(t *testing.T) {
	for _, tc := range []struct {
		name         string
		change, tail int // bytes
	}{
		{"empty tail", 0, 0},
		{"a server_hlc", 40000, 40},
		{"one full stored block", 100, 0xffff},
		{"two stored blocks", 70000, 0xffff + 1},
		{"four stored blocks", 10, 3*0xffff + 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg := &server.PullPage{Cursor: "c", HasMore: true,
				Changes: []json.RawMessage{json.RawMessage(`"` + strings.Repeat("甲x", tc.change/4) + `"`)}}
			tail := bytes.Repeat([]byte{'t'}, tc.tail)
			want := string(pg.AppendHead(nil)) + string(tail)
			head, ok := encodePage(pg, "gzip").(*gzipHead)
			if !ok {
				t.Fatal("no head encoded")
			}
			zr, err := gzip.NewReader(bytes.NewReader(head.finish(tail)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("unzip: %v", err)
			}
			if string(got) != want {
				t.Fatalf("unzips to %d bytes, want %d", len(got), len(want))
			}
			head.recycle()
		})
	}
}
