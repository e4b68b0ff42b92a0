package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xuri/excelize/v2"
)

// TestReportNotesStayText: a progress note that looks like a number
// ("007", "50%") is in the monthly report's XLSX as typed, text, and
// never summed in its totals; the columns that count are numbers.
func TestReportNotesStayText(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	const sheet = "整改任务进展"
	for _, note := range []string{"007", "50%", "12", "1e3"} {
		if st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"40"}, "note": {note}}); st != http.StatusOK {
			t.Fatalf("report %q: %d\n%s", note, st, page)
		}
		body, f := download(t, county, "/console/report.xlsx") // this month: the progress as it is now
		rows := checkSheet(t, body, f, sheet)
		col := slices.Index(rows[0], "进展说明")
		pct := slices.Index(rows[0], "进度")
		found := false
		for r, row := range rows[1:] {
			if col >= len(row) || row[col] != note {
				continue
			}
			found = true
			ref, _ := excelize.CoordinatesToCellName(col+1, r+3)
			if typ, err := f.GetCellType(sheet, ref); err != nil || typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset {
				t.Errorf("note %q at %s stored as type %v, want text", note, ref, typ)
			}
			if raw, _ := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true}); raw != note {
				t.Errorf("note %q at %s is %q underneath", note, ref, raw)
			}
			ref, _ = excelize.CoordinatesToCellName(pct+1, r+3)
			if typ, _ := f.GetCellType(sheet, ref); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
				t.Errorf("the percent at %s is stored as type %v, want a number", ref, typ)
			}
		}
		if !found {
			t.Errorf("note %q not in the sheet", note)
		}
		all, _ := f.GetRows(sheet)
		if totals := all[len(all)-1]; col < len(totals) && totals[col] != "" {
			t.Errorf("note %q: the totals sum the notes: %q", note, totals[col])
		}
	}
}

// TestDownloadNames: every download's plain filename is ASCII (a client
// reading only it must not get raw UTF-8), and filename* carries the
// Chinese name.
func TestDownloadNames(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CityOffice)
	re := regexp.MustCompile(`^attachment; filename="([\x20-\x7e]+)"; filename\*=UTF-8''(\S+)$`)
	for _, tc := range []struct{ path, ascii, name string }{
		{"/console/report.csv?month=2026-11", "2026-11.csv", "信息报送-2026-11.csv"},
		{"/console/report.xlsx?month=2026-11", "2026-11.xlsx", "信息报送-2026-11.xlsx"},
		{"/console/queue.xlsx", "", ""},
		{"/console/findings.xlsx", "", ""},
	} {
		st, cd := b.getHeader(tc.path, "Content-Disposition")
		m := re.FindStringSubmatch(cd)
		if st != http.StatusOK || m == nil {
			t.Errorf("%s: %d, Content-Disposition %q", tc.path, st, cd)
			continue
		}
		name, err := url.PathUnescape(m[2])
		if err != nil || !utf8.ValidString(name) || tc.name != "" && (name != tc.name || m[1] != tc.ascii) {
			t.Errorf("%s: filename %q, filename* %q (%v); want %q and %q", tc.path, m[1], name, err, tc.ascii, tc.name)
		}
	}
}
