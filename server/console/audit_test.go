package console_test

import (
	"crypto/ed25519"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"github.com/xuri/excelize/v2"
)

// TestAuditHistoryAndSeal follows an inspection through review, return and
// the inspector's edit: its page shows who did what, when, from which
// device; once the month is over, the monthly report carries the month's
// seal, and the exported seal and entries verify offline.
func TestAuditHistoryAndSeal(t *testing.T) {
	var ahead atomic.Int64 // how far the server's clock runs ahead of time.Now
	srv := apptest.Start(t, func(c *app.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	})
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	addPhoto(t, srv, insp, apptest.Xinfu) // flags no_gps and far_from_site

	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/inspections/" + insp)
	if st, page := b.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"return"},
		"comment": {"请补拍围挡"}}, page)); st != http.StatusOK {
		t.Fatalf("return: %d\n%s", st, page)
	}
	pullAll(t, phone, "")
	resp, err := phone.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{{Entity: syncproto.EntityInspection, ID: insp,
		HLC: phone.Clock.Now().String(), Fields: apptest.Fields("summary", "已补拍围挡", "answers.fence", map[string]any{"result": "fail"},
			// Saved again as it was (a photo added to the item): nothing
			// to record (it read 不合格（东侧料堆裸露） → the same).
			"answers.material_cover", map[string]any{"result": "fail", "note": "东侧料堆裸露"})}})
	if err != nil || resp.Results[0].Status != syncproto.StatusApplied {
		t.Fatalf("edit of the returned inspection: %v %+v", err, resp)
	}

	page = mustGet(t, b, "/console/inspections/"+insp)
	rows := tableRows(t, page, "history")
	if len(rows) != 4 { // header, flags, review, edit
		t.Fatalf("history rows %v", rows)
	}
	flags, review, edit := strings.Split(rows[1], "|"), strings.Split(rows[2], "|"), strings.Split(rows[3], "|")
	// The flags as sentences, not their JSON.
	if flags[2] != "服务器" || flags[4] != "证据标记" || !strings.Contains(flags[6], "照片不含 GPS") || strings.Contains(flags[6], "far_from_site") {
		t.Errorf("flags row %v", flags)
	}
	// A photo is told by the end of its id (the start of a UUIDv7 is the
	// minute it was made, the same for every photo of a visit).
	if !strings.HasPrefix(flags[5], "照片 …") {
		t.Errorf("flags row names its record %q, want 照片 and the end of its id", flags[5])
	}
	if review[2] == "" || review[2] == "服务器" || review[3] != "办公室后台" || review[4] != "审核" ||
		!strings.Contains(review[6], "状态：待审核 → 已退回") || !strings.Contains(review[6], "审核决定：（空） → 退回") || !strings.Contains(review[6], "审核意见：（空） → 请补拍围挡") {
		t.Errorf("review row %v", review)
	}
	if !strings.Contains(edit[3], "test "+apptest.Inspector) || edit[4] != "审核后修改" ||
		!strings.Contains(edit[6], "检查摘要：（空） → 已补拍围挡") || !strings.Contains(edit[6], "→ 不合格") || strings.Contains(edit[6], "东侧料堆裸露") {
		t.Errorf("edit row %v (want the phone named, and the change)", edit)
	}
	// Another county's office does not see the inspection, nor its history.
	if st, _ := loggedIn(t, srv, apptest.DingxiangOffice).get("/console/inspections/" + insp); st != http.StatusForbidden {
		t.Errorf("another county's office: %d", st)
	}

	// The month is not over: the report says so and offers no seal.
	entries, err := srv.App.DB.AuditEntries(ctx, 0, 100)
	if err != nil || len(entries) != 3 {
		t.Fatalf("entries %d: %v", len(entries), err)
	}
	month := audit.MonthOf(entries[0].At)
	page = mustGet(t, b, "/console/report?month="+month)
	if !strings.Contains(page, "本月尚未结束") || strings.Contains(page, "seal-json") {
		t.Errorf("report of the running month: seal shown")
	}
	if st, _ := b.get("/console/report/seal.json?month=" + month); st != http.StatusNotFound {
		t.Errorf("seal of the running month: %d", st)
	}
	// A month not begun is not "not over yet", and a request naming no
	// month says to name one.
	next := time.Now().In(server.ChinaTime).AddDate(0, 1, 0).Format("2006-01")
	for q, want := range map[string]string{"month=" + next: next + " 还没有开始", "month=9999-12": "9999-12 还没有开始", "": "请指定月份"} {
		if st, page := b.get("/console/report/seal.json?" + q); st != http.StatusBadRequest || !strings.Contains(page, want) || strings.Contains(page, "尚未结束") {
			t.Errorf("seal.json?%s: %d, want 400 saying %s", q, st, want)
		}
	}

	// Two hours after the month's end it is sealed on demand.
	end, _ := audit.MonthEnd(month)
	ahead.Store(int64(time.Until(end.Add(2 * time.Hour))))
	city := loggedIn(t, srv, apptest.CityOffice)
	page = mustGet(t, city, "/console/report?month="+month)
	if !strings.Contains(page, `id="seal-json"`) || !strings.Contains(page, `id="audit-jsonl"`) {
		t.Fatalf("report of a finished month: no seal links\n%s", page)
	}
	sealRows := tableRows(t, page, "report-审计封存")
	if !strings.Contains(sealRows[2], "1–3") {
		t.Errorf("seal rows %v", sealRows)
	}
	st, sealJSON := city.get("/console/report/seal.json?month=" + month)
	if st != http.StatusOK {
		t.Fatalf("seal.json: %d %s", st, sealJSON)
	}
	seal, err := audit.ReadSeal(strings.NewReader(sealJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := seal.VerifySignature(srv.App.Sealer.Key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	st, lines := city.get("/console/report/audit.jsonl?month=" + month)
	if st != http.StatusOK {
		t.Fatalf("audit.jsonl: %d %s", st, lines)
	}
	exported, err := audit.ReadEntries(strings.NewReader(lines))
	if err != nil || len(exported) != 3 {
		t.Fatalf("exported %d entries: %v", len(exported), err)
	}
	if m := seal.Check(exported); m != nil {
		t.Fatalf("exported month against its seal: %v", m)
	}
	// A county office gets the seal but not the city's entries.
	b = loggedIn(t, srv, apptest.CountyOffice)
	if st, _ := b.get("/console/report/audit.jsonl?month=" + month); st != http.StatusForbidden {
		t.Errorf("county office exporting the entries: %d", st)
	}
	if st, _ := b.get("/console/report/seal.json?month=" + month); st != http.StatusOK {
		t.Errorf("county office downloading the seal: %d", st)
	}
	// The XLSX's last sheet and the CSV's last table are the seal.
	_, body := b.get("/console/report.xlsx?month=" + month)
	f, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	xrows, _ := f.GetRows("审计封存")
	if !strings.Contains(flat(xrows), seal.HeadHash) || !strings.Contains(flat(xrows), seal.Signature) {
		t.Errorf("XLSX seal sheet %v", xrows)
	}
	_, csvBody := b.get("/console/report.csv?month=" + month)
	if !strings.Contains(csvBody, "审计封存") || !strings.Contains(csvBody, seal.HeadHash) {
		t.Errorf("CSV without the seal")
	}
	// The sign-off ends the CSV and the page, as it does the workbook.
	if i := strings.LastIndex(csvBody, "报送审核"); i < strings.Index(csvBody, seal.HeadHash) || !strings.Contains(csvBody[i:], "审核人（主要领导签字）") {
		t.Errorf("the CSV does not end with the sign-off")
	}
	if _, page := b.get("/console/report?month=" + month); !strings.Contains(page, `id="report-报送审核"`) || !strings.Contains(page, "加盖公章") {
		t.Errorf("the report page lacks the sign-off")
	}
}

func flat(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "\t"))
		b.WriteByte('\n')
	}
	return b.String()
}
