package jobs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestQuieter: River's logger passes on warnings and errors, with the
// attributes and groups given it, and none of its INFO records (its
// producer's job counts every 5 s, ops probe).
func TestQuieter(t *testing.T) {
	var buf bytes.Buffer
	log := quieter(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), slog.LevelWarn).With("component", "river")
	log.Info("producer: Producer job counts", "num_jobs_running", 3)
	log.Debug("detail")
	log.WithGroup("job").Warn("job failed", "id", 7)
	log.Error("client stopped")
	out := buf.String()
	if strings.Contains(out, "Producer job counts") || strings.Contains(out, "detail") {
		t.Errorf("below WARN passed on:\n%s", out)
	}
	for _, want := range []string{`level=WARN msg="job failed" component=river job.id=7`, `level=ERROR msg="client stopped" component=river`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
