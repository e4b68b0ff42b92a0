package console

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// avoidedTerms maps a word users must not see to the one the console and
// the field app use for the same thing: the rectification plan's own
// vocabulary, one word per thing, so an office reading the plan, the
// console and the export meets the same terms.
var avoidedTerms = map[string]string{
	"整改期限": "整改时限", // the plan's word for a deadline, a task's or a finding's
}

// TestOneWordPerThing reads every source of text shown to users (console
// templates and Go sources, the export, the field app) for avoided terms.
func TestOneWordPerThing(t *testing.T) {
	roots := []string{".", "../../webapp/static", "../app"}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			switch filepath.Ext(path) {
			case ".go", ".html", ".js", ".json":
			default:
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for bad, good := range avoidedTerms {
				if n := strings.Count(string(b), bad); n > 0 {
					t.Errorf("%s: %q %d times; users read %q for it elsewhere", path, bad, n, good)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
