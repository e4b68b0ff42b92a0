package seeds

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// publishedFile pins each checklist version ever released: its record
// id, then the SHA-256 of its content. A line is added with each new
// version and never changed or removed.
const publishedFile = "testdata/published_templates.txt"

// TestPublishedTemplatesUnchanged: a checklist version, once released, is
// never edited (sync.md 9.1): inspections were answered on it and phones
// hold it; the server keeps the stored one (server.LoadReference) and an
// edit would reach only new databases. A change is a new version.
func TestPublishedTemplatesUnchanged(t *testing.T) {
	f, err := os.Open(publishedFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pinned := map[string]string{} // id@version → hash
	latest := map[string]int{}    // id → highest version pinned
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, hash, ok := strings.Cut(line, " ")
		name, v, _ := strings.Cut(id, "@")
		var version int
		if _, err := fmt.Sscan(v, &version); !ok || err != nil {
			t.Fatalf("%s: bad line %q", publishedFile, line)
		}
		pinned[id] = hash
		latest[name] = max(latest[name], version)
	}
	for _, tp := range mustLoad(t).Templates {
		b, err := json.Marshal(tp)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		id, hash := fmt.Sprintf("%s@%d", tp.ID, tp.Version), hex.EncodeToString(sum[:])
		switch want, ok := pinned[id]; {
		case ok && want != hash:
			t.Errorf("checklist %s was released and has changed: put it back, and make the change a new version (version %d in %s.json), then add its line to %s",
				id, latest[tp.ID]+1, tp.ID, publishedFile)
		case ok:
		case tp.Version < latest[tp.ID]:
			t.Errorf("checklist %s is older than version %d, released already", id, latest[tp.ID])
		default:
			t.Errorf("checklist %s is not in %s: once it is released, add the line %q (and never change it)", id, publishedFile, id+" "+hash)
		}
	}
}
