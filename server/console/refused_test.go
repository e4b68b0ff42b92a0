package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestRefusedFormKeepsTypingAndList: a form refused shows again all that
// was typed in it (a ledger report's note and evidence, not only a
// review's comment) and leads back to the page or list it came from,
// filtered as it was.
func TestRefusedFormKeepsTypingAndList(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CountyOffice)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	queue := "/console/queue?county=" + apptest.Xinfu + "&status=submitted"
	detail := mustGet(t, b, "/console/inspections/"+insp+"?back="+url.QueryEscape(queue))
	ledger := mustGet(t, b, "/console/ledger")
	for _, tc := range []struct {
		name, action string
		form         url.Values
		status       int
		kept         []string
		back         string
	}{
		{"ledger report its list no longer shows", "/console/ledger/task-08/" + apptest.Xinfu,
			ledgerForm(t, ledger, "task-08", apptest.Xinfu, url.Values{"status": {"done"}, "progress_pct": {"50"},
				"note": {"已拆除三台锅炉\n第四台下周"}, "evidence": {"忻环发〔2026〕12号\nhttps://example.cn/a"}, "list": {"status=accepted"},
				"responsible_leader": {"王副县长"}, "responsible_person": {"李科长"}}),
			http.StatusBadRequest, []string{"已拆除三台锅炉\n第四台下周", "忻环发〔2026〕12号\nhttps://example.cn/a", "王副县长", "李科长"}, "/console/ledger?status=accepted"},
		{"ledger report without the row as shown", "/console/ledger/task-08/" + apptest.Xinfu,
			withoutOrig(ledgerForm(t, ledger, "task-08", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"40"},
				"note": {"已拆除两台锅炉"}, "list": {"overdue=1"}})),
			http.StatusBadRequest, []string{"已拆除两台锅炉", "表单缺少此行原有的内容"}, "/console/ledger?overdue=1"},
		{"review without a version", "/console/inspections/" + insp + "/review",
			url.Values{"csrf": {csrf(t, detail)}, "decision": {"return"}, "comment": {"请补拍"}, "back": {queue}},
			http.StatusBadRequest, []string{"请补拍"}, "/console/inspections/" + insp + "?back=" + url.QueryEscape(queue)},
		{"review of nothing", "/console/inspections/" + uuid.NewString() + "/review",
			url.Values{"csrf": {csrf(t, detail)}, "decision": {"return"}, "comment": {"请补拍"}, "back": {queue}, "seq": {"5"}},
			http.StatusNotFound, []string{"请补拍"}, queue},
		{"review at an id no record can have", "/console/inspections/" + insp + "x/review",
			url.Values{"csrf": {csrf(t, detail)}, "decision": {"return"}, "comment": {"请补拍"}, "back": {queue}, "seq": {"5"}},
			http.StatusBadRequest, []string{"请补拍"}, queue},
		{"reopen of nothing", "/console/findings/" + uuid.NewString() + "/verify",
			url.Values{"csrf": {csrf(t, detail)}, "decision": {"reopen"}, "comment": {"围挡仍有缺口"}, "deadline": {"2030-12-20"}, "back": {queue}, "seq": {"5"}},
			http.StatusNotFound, []string{"围挡仍有缺口", "2030-12-20"}, queue},
	} {
		st, page := b.post(tc.action, tc.form)
		if st != tc.status {
			t.Errorf("%s: %d, want %d\n%s", tc.name, st, tc.status, page)
		}
		for _, k := range tc.kept {
			if !strings.Contains(page, html.EscapeString(k)) {
				t.Errorf("%s: the page lacks what was typed: %q", tc.name, k)
			}
		}
		if want := `href="` + html.EscapeString(tc.back) + `" class="back"`; !strings.Contains(page, want) {
			t.Errorf("%s: the page lacks %s", tc.name, want)
		}
	}
}

// TestBulkKeepsTheQueue: bulk approval's pages lead back to the queue as
// it was filtered, and one asked with nothing ticked says so on it.
func TestBulkKeepsTheQueue(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	id := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	b := loggedIn(t, srv, apptest.CountyOffice)
	queue := "/console/queue?county=" + apptest.Xinfu + "&status=submitted"
	page := mustGet(t, b, queue)
	if !strings.Contains(page, `<input type="hidden" name="back" value="`+html.EscapeString(queue)+`">`) {
		t.Fatal("the queue's bulk form does not carry the queue's address")
	}
	confirm := mustGet(t, b, "/console/bulk?"+url.Values{"id": {id}, "back": {queue}}.Encode())
	href := `href="` + html.EscapeString(queue) + `"`
	if strings.Count(confirm, href) != 2 {
		t.Errorf("the confirmation's ← and 取消 do not lead to %s:\n%s", queue, confirm)
	}
	_, done := b.post("/console/bulk", withSeqs(url.Values{"csrf": {csrf(t, confirm)}, "id": {id}, "back": {queue}}, confirm))
	if !strings.Contains(done, "已审核通过 1 条") || !strings.Contains(done, href+` class="back-list"`) {
		t.Errorf("the result does not lead back to %s:\n%s", queue, done)
	}
	st, none := b.get("/console/bulk?" + url.Values{"back": {queue}}.Encode())
	if st != http.StatusOK || !strings.Contains(none, "请先勾选要批量通过的检查记录") || !strings.Contains(none, `<option value="`+apptest.Xinfu+`" selected>`) {
		t.Errorf("nothing ticked: %d\n%s", st, none)
	}
}

func withoutOrig(form url.Values) url.Values {
	form.Del("orig")
	return form
}

// TestRefusedLedgerReportRefilled: a ledger report the server refuses
// (已完成 at 50%) comes back as the ledger, filtered as it was, with the
// row's form open and holding all that was typed — status, percentage,
// note, evidence — and why it was refused; corrected, it saves.
func TestRefusedLedgerReportRefilled(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CountyOffice)
	ledger := mustGet(t, b, "/console/ledger")
	form := ledgerForm(t, ledger, "task-08", apptest.Xinfu, url.Values{"status": {"done"}, "progress_pct": {"50"},
		"note": {"已拆除三台锅炉"}, "evidence": {"忻环发〔2026〕12号"}, "responsible_leader": {"王副县长"}})
	st, page := b.post("/console/ledger/task-08/"+apptest.Xinfu, form)
	if st != http.StatusBadRequest {
		t.Fatalf("已完成 at 50%%: %d, want 400", st)
	}
	row := regexp.MustCompile(`(?s)<tr id="p-task-08-` + apptest.Xinfu + `"[^>]*>.*?</tr>`).FindString(page)
	for _, want := range []string{`<option value="done" selected>`, `name="progress_pct" min="0" max="100" value="50"`, "已拆除三台锅炉", "忻环发〔2026〕12号",
		"王副县长", "未保存：状态为已完成时进度应为 100%", "<details class=\"task-edit\" open>"} {
		if !strings.Contains(row, want) && !strings.Contains(row, html.EscapeString(want)) {
			t.Errorf("the refused row's form lacks %q:\n%s", want, row)
		}
	}
	// What the row shows above its form is what is stored: nothing of
	// the refused report (reviewer probe: it read as saved).
	stored, _, _ := strings.Cut(row, "<details")
	for _, typed := range []string{"已拆除三台锅炉", "忻环发〔2026〕12号", "王副县长", "已完成"} {
		if strings.Contains(stored, typed) {
			t.Errorf("the refused row shows %q as on record:\n%s", typed, stored)
		}
	}
	// Corrected in the form as shown (its orig is the stored row's), it saves.
	form = ledgerForm(t, page, "task-08", apptest.Xinfu, url.Values{"status": {"done"}, "progress_pct": {"100"},
		"note": {"已拆除三台锅炉"}, "evidence": {"忻环发〔2026〕12号"}})
	if st, page := b.post("/console/ledger/task-08/"+apptest.Xinfu, form); st != http.StatusOK || !strings.Contains(page, "已保存整改进展") {
		t.Errorf("the corrected report: %d", st)
	}
	if r := storedProgress(t, srv, "task-08", apptest.Xinfu); r.Status != "done" || r.Note != "已拆除三台锅炉" {
		t.Errorf("stored after the correction: %+v", r)
	}
}
