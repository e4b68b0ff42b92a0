// Package logtest collects what a server under test writes to its log or
// its standard error, safely for the server's goroutines, and reads back
// its JSON log records.
package logtest

import (
	"bytes"
	"encoding/json"
	"sync"
)

// Buffer is an io.Writer that keeps everything written to it; its methods
// may be called from any goroutine.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Records returns the JSON log records (slog's JSON handler) written so
// far whose msg is msg; lines that are not JSON objects are skipped.
func (b *Buffer) Records(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range bytes.Split([]byte(b.String()), []byte("\n")) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}
