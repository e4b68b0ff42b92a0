package console_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// squash drops the whitespace between tags so table rows can be matched.
// squash takes the white space between tags, and the labels a phone's
// cards show (data-label), out of a page, for comparing its cells.
func squash(s string) string {
	s = regexp.MustCompile(` data-label="[^"]*"| class="nowrap"`).ReplaceAllString(s, "")
	return regexp.MustCompile(`>\s+<`).ReplaceAllString(s, "><")
}

var (
	rowRE  = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
	tagRE  = regexp.MustCompile(`<[^>]*>`)
)

// tableRows returns the rows of the table with this id as text, cells
// joined by "|" (the header row included).
func tableRows(t *testing.T, page, id string) []string {
	t.Helper()
	start := strings.Index(page, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no table %q in\n%s", id, page)
	}
	table := page[start : start+strings.Index(page[start:], "</table>")]
	var rows []string
	for _, m := range rowRE.FindAllStringSubmatch(table, -1) {
		var cells []string
		for _, c := range cellRE.FindAllStringSubmatch(m[1], -1) {
			cells = append(cells, strings.TrimSpace(tagRE.ReplaceAllString(c[1], "")))
		}
		rows = append(rows, strings.Join(cells, "|"))
	}
	return rows
}

func TestVehiclesPage(t *testing.T) {
	srv := apptest.Start(t)
	for _, user := range []string{apptest.CountyOffice, apptest.CityOffice} {
		st, page := loggedIn(t, srv, user).get("/console/vehicles")
		if st != http.StatusOK {
			t.Fatalf("%s: vehicles: %d\n%s", user, st, page)
		}
		for table, want := range map[string][]string{
			// The plan's figures: the joint action at the two checkpoints
			// as one figure (22 of 181 国六, 12%), and the 7-day action.
			"by-campaign":   {"豆罗、秦城检查站联合路检|秦城检查站、豆罗检查站|359|178|181|0|22|12.2%"},
			"by-checkpoint": {"忻府区|豆罗检查站|129|79|50|0|11|22.0%", "忻府区|秦城检查站|230|99|131|0|11|8.4%"},
			"by-county":     {"忻府区|359|178|181|0|22|12.2%"},
		} {
			rows := tableRows(t, page, table)
			for _, w := range want {
				if !slices.Contains(rows, w) {
					t.Errorf("%s: table %s lacks row %q; rows:\n%s", user, table, w, strings.Join(rows, "\n"))
				}
			}
		}
		for _, want := range []string{`href="/console/vehicles"`, `href="/console/ledger"`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: vehicles page lacks %q", user, want)
			}
		}
	}
	// The 7-day action was run at four checkpoints in four counties: the
	// city sees it whole, the 忻府区 office none of it.
	_, page := loggedIn(t, srv, apptest.CityOffice).get("/console/vehicles")
	for table, want := range map[string][]string{
		"by-campaign": {"燃气货车七日专项行动|定襄县G337国道检查点、代县G108国道过境段检查点、保德县S249省道检查点、原平市G108国道检查点|549|238|311|0|41|13.2%"},
		"by-checkpoint": {"代县|代县G108国道过境段检查点|140|60|80|0|11|13.8%", "原平市|原平市G108国道检查点|150|65|85|0|11|12.9%",
			"定襄县|定襄县G337国道检查点|129|56|73|0|10|13.7%", "保德县|保德县S249省道检查点|130|57|73|0|9|12.3%"},
		"by-county": {"忻府区|359|178|181|0|22|12.2%", "合计|908|416|492|0|63|12.8%"},
	} {
		rows := tableRows(t, page, table)
		for _, w := range want {
			if !slices.Contains(rows, w) {
				t.Errorf("city: table %s lacks row %q; rows:\n%s", table, w, strings.Join(rows, "\n"))
			}
		}
	}
	if _, page := loggedIn(t, srv, apptest.CountyOffice).get("/console/vehicles"); strings.Contains(page, demoSevenDays) {
		t.Errorf("the 忻府区 office sees the 7-day action, whose checkpoints are in other counties")
	}
}

const demoSevenDays = "燃气货车七日专项行动"

// TestVehicleRecords: the records behind the figures, filtered, paged and
// scoped like the figures.
func TestVehicleRecords(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	for _, tc := range []struct {
		query string
		n     string // the count the page states
		rows  int    // rows on the page
	}{
		{"", "359", 30},
		{"?campaign=" + url.QueryEscape("豆罗、秦城检查站联合路检") + "&removed=1", "22", 22},
		{"?checkpoint=" + url.QueryEscape("秦城检查站") + "&removed=1", "11", 11},
		{"?campaign=" + url.QueryEscape("豆罗、秦城检查站联合路检") + "&page=12", "359", 29},
		{"?county=140902&checkpoint=" + url.QueryEscape("豆罗检查站"), "129", 30},
		{"?checkpoint=" + url.QueryEscape("没有这个检查站"), "0", 0},
	} {
		st, page := county.get("/console/vehicles" + tc.query)
		if st != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tc.query, st, page)
		}
		if !strings.Contains(page, "共 "+tc.n+" 条") {
			t.Errorf("%s: page does not state %s records", tc.query, tc.n)
		}
		rows := tableRows(t, page, "vehicle-records")[1:]
		if tc.rows == 0 {
			if len(rows) != 1 || !strings.Contains(rows[0], "没有符合条件") {
				t.Errorf("%s: rows %q, want the empty notice", tc.query, rows)
			}
			continue
		}
		if len(rows) != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.query, len(rows), tc.rows)
		}
		if strings.Contains(tc.query, "removed=1") {
			for _, r := range rows {
				if !strings.Contains(r, "|国六|") || !strings.Contains(r, "|已拆除|") {
					t.Errorf("%s: row %q is not a 国六 truck with after-treatment removed", tc.query, r)
				}
			}
		}
	}
	// The figures link to their records: follow the joint action's link.
	m := regexp.MustCompile(`<a href="([^"]+)">豆罗、秦城检查站联合路检</a>`).FindStringSubmatch(mustGet(t, county, "/console/vehicles"))
	if m == nil {
		t.Fatal("no link on the joint action's figures")
	}
	if linked := mustGet(t, county, html.UnescapeString(m[1])); !strings.Contains(linked, "共 359 条") {
		t.Errorf("the joint action's link %s does not list its 359 checks", m[1])
	}
	// Another county's records: refused by name, absent from every list.
	if st, page := county.get("/console/vehicles?county=" + apptest.Ningwu); st != http.StatusForbidden || !strings.Contains(page, "无权") {
		t.Errorf("county office filtering on another county: %d", st)
	}
	ningwuOffice := addOffice(t, srv, "ningwu-office", apptest.Ningwu)
	st, page := ningwuOffice.get("/console/vehicles")
	if st != http.StatusOK || !strings.Contains(page, "共 0 条") || strings.Contains(page, "豆罗") {
		t.Errorf("宁武 office sees 忻府区 roadside checks (%d)", st)
	}
}

// addOffice adds a county office user of these counties and logs it in.
func addOffice(t *testing.T, srv *apptest.Server, username string, counties ...string) *browser {
	t.Helper()
	apptest.Passwords[username] = "office-" + username
	if _, err := srv.App.AddUser(ctx, username, apptest.Passwords[username], username, server.RoleCountyOffice, counties); err != nil {
		t.Fatal(err)
	}
	return loggedIn(t, srv, username)
}

// TestLedgerEvidence: each task shows the inspections of its checklists
// in its counties that the office may see, and links to them in the queue.
func TestLedgerEvidence(t *testing.T) {
	srv := apptest.Start(t)
	xinfuPhone, ningwuPhone := srv.Login(apptest.Inspector), srv.Login(apptest.NingwuInsp)
	mine := []string{submit(t, xinfuPhone, "140902"), submit(t, xinfuPhone, "140902")}
	theirs := submit(t, ningwuPhone, apptest.Ningwu)
	// A coal-yard check in 宁武县, one of the counties task 4.2 names, and
	// one in 忻府区, which it does not name.
	submitWith(t, ningwuPhone, apptest.Ningwu, "coal_yard")
	submitWith(t, xinfuPhone, "140902", "coal_yard")
	county, city := loggedIn(t, srv, apptest.CountyOffice), loggedIn(t, srv, apptest.CityOffice)
	detail := mustGet(t, city, "/console/inspections/"+mine[0])
	if st, _ := city.post("/console/inspections/"+mine[0]+"/review", withSeqs(url.Values{"decision": {"approve"}, "csrf": {csrf(t, detail)}}, detail)); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}

	evidence := func(b *browser, task string) string {
		t.Helper()
		for _, r := range tableRows(t, mustGet(t, b, "/console/ledger"), "ledger") {
			if strings.HasPrefix(r, task+"|") {
				return r
			}
		}
		t.Fatalf("no ledger row for task %s", task)
		return ""
	}
	for _, tc := range []struct {
		b          *browser
		who, task  string
		want, lack []string
	}{
		// 4.4 construction dust, every county: the county office sees its
		// own two, the city office all three.
		{county, "county", "4.4", []string{"累计现场检查 2 次", "待审核 1 · 已退回 0 · 已通过 1", "建筑施工扬尘"}, []string{"路检车辆"}},
		{city, "city", "4.4", []string{"累计现场检查 3 次", "待审核 2 · 已退回 0 · 已通过 1"}, nil},
		// 4.2 coal yards, in six counties without 忻府区: 宁武县's check
		// only.
		{city, "city", "4.2", []string{"累计现场检查 1 次", "待审核 1 · 已退回 0 · 已通过 0", "煤炭集运站"}, nil},
		{county, "county", "4.2", []string{"累计现场检查 0 次"}, nil},
		// 4.5 roadside trucks: the vehicle checks count too.
		{county, "county", "4.5", []string{"累计现场检查 0 次", "累计路检车辆 359 辆"}, nil},
		{city, "city", "4.5", []string{"路检车辆 908 辆"}, nil},
		// 1.1 has no field check at all.
		{city, "city", "1.1", []string{"无对应现场检查"}, []string{"现场检查 0 次"}},
	} {
		row := evidence(tc.b, tc.task)
		for _, w := range tc.want {
			if !strings.Contains(row, w) {
				t.Errorf("%s: task %s row lacks %q:\n%s", tc.who, tc.task, w, row)
			}
		}
		for _, l := range tc.lack {
			if strings.Contains(row, l) {
				t.Errorf("%s: task %s row has %q:\n%s", tc.who, tc.task, l, row)
			}
		}
	}

	// The ledger links to the queue filtered by the task: the same
	// inspections, scoped the same way.
	if !strings.Contains(mustGet(t, county, "/console/ledger"), `href="/console/queue?task=task-08&amp;status="`) {
		t.Error("ledger does not link task 4.4 to its inspections")
	}
	for _, tc := range []struct {
		b    *browser
		who  string
		want []string
		lack []string
	}{
		{county, "county", mine, []string{theirs}},
		{city, "city", append(mine, theirs), nil},
	} {
		page := mustGet(t, tc.b, "/console/queue?task=task-08&status=")
		if !strings.Contains(page, "整改任务 4.4 的关联检查") {
			t.Errorf("%s: queue does not name the task it is filtered by", tc.who)
		}
		for _, id := range tc.want {
			if !strings.Contains(page, `data-id="`+id+`"`) {
				t.Errorf("%s: task queue lacks inspection %s", tc.who, id)
			}
		}
		for _, id := range tc.lack {
			if strings.Contains(page, id) {
				t.Errorf("%s: task queue shows another county's inspection %s", tc.who, id)
			}
		}
	}
	if page := mustGet(t, city, "/console/queue?task=task-06&status="); !strings.Contains(page, "共 1 条") {
		t.Error("the coal-yard task's queue is not its one inspection in 宁武县")
	}
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"task=task-01", http.StatusBadRequest},    // no field check
		{"task=task-99", http.StatusNotFound},      // no such task
		{"task=%27%20OR%201", http.StatusNotFound}, // not an id at all
	} {
		if st, _ := city.get("/console/queue?" + tc.query); st != tc.code {
			t.Errorf("queue?%s: %d, want %d", tc.query, st, tc.code)
		}
	}
}

func mustGet(t *testing.T, b *browser, path string) string {
	t.Helper()
	st, page := b.get(path)
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, st, page)
	}
	return page
}

// TestVehiclesOutsideActions (issue 10): a roadside check made outside any
// special action is counted under 未列入专项行动, so the table by action
// adds up to the total and links to its records; the Chinese values an
// older app sends are stored as codes, pulled back as codes under the same
// HLC, and shown as labels.
func TestVehiclesOutsideActions(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	_, cursor := pullAll(t, phone, "")
	id := uuid.NewString()
	m := apptest.Mut(phone, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu, "checkpoint", "忻州北收费站",
		"plate", "晋H7E123", "emission_stage", "国六", "fuel", "天然气", "aftertreatment", "removed", "action", "处罚",
		"checked_at", "2026-11-28T10:00:00+08:00"))
	apptest.PushApplied(t, phone, m)
	rec, err := srv.App.DB.Get(ctx, syncproto.EntityVehicleCheck, id)
	if err != nil {
		t.Fatal(err)
	}
	for field, code := range map[string]string{"emission_stage": "cn6", "fuel": "natural_gas", "action": "fine", "aftertreatment": "removed"} {
		if got := rec.Text(field); got != code || rec.State.Fields[field].HLC.String() != m.HLC {
			t.Errorf("stored %s = %q at %s, want %q at %s", field, got, rec.State.Fields[field].HLC, code, m.HLC)
		}
	}
	changes, _ := pullAll(t, phone, cursor)
	if i := slices.IndexFunc(changes, func(c syncproto.Change) bool { return c.ID == id }); i < 0 ||
		string(changes[i].Fields["emission_stage"]) != `"cn6"` || changes[i].HLCs["emission_stage"] != m.HLC {
		t.Errorf("the phone pulled back %+v", changes)
	}

	county := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, county, "/console/vehicles")
	rows := tableRows(t, page, "by-campaign")[1:]
	rows = rows[:len(rows)-1] // less the table's own 合计, checked below
	sum := 0
	for _, r := range rows {
		n, _ := strconv.Atoi(strings.Split(r, "|")[2])
		sum += n
	}
	// The office's total: the records of its county, the one outside any
	// action included, each counted once by action.
	byCounty := tableRows(t, page, "by-county")
	total := -1
	for _, r := range byCounty {
		if f := strings.Split(r, "|"); f[0] == "合计" {
			total, _ = strconv.Atoi(f[1])
		}
	}
	if last := rows[len(rows)-1]; last != "未列入专项行动|忻州北收费站|1|0|1|0|1|100.0%" || total < 2 || sum != total {
		t.Errorf("by special action sums to %d, want the total %d; rows:\n%s\nby county: %v", sum, total, strings.Join(rows, "\n"), byCounty)
	}
	// Each table's 合计 is the same (the page says so).
	for _, id := range []string{"by-campaign", "by-checkpoint", "by-county"} {
		r := tableRows(t, page, id)
		if got, want := r[len(r)-1], byCounty[len(byCounty)-1]; got != want || !strings.HasPrefix(got, "合计|"+strconv.Itoa(total)+"|") {
			t.Errorf("%s's total row %q, want %q (by county's)", id, got, want)
		}
	}
	m2 := regexp.MustCompile(`<a href="([^"]+)">未列入专项行动</a>`).FindStringSubmatch(page)
	if m2 == nil {
		t.Fatal("no link on the row outside any action")
	}
	linked := mustGet(t, county, html.UnescapeString(m2[1]))
	if records := tableRows(t, linked, "vehicle-records")[1:]; !strings.Contains(linked, "共 1 条") || len(records) != 1 ||
		!strings.Contains(records[0], "|晋H7E123|国六|天然气|已拆除|处罚|") {
		t.Errorf("records outside any action: %v", records)
	}
}

// TestVehicleLabelsTrimmed: a checkpoint typed with spaces around it
// (ASCII, the ideographic space of Chinese input methods), with a space
// between its words (G108 检查站) or in full-width letters and digits is
// the same
// checkpoint in the statistics, in its records' filter and in the monthly
// report; checks written before a checkpoint was required are one
// （未填检查站） row whose link lists them, not every record.
func TestVehicleLabelsTrimmed(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	const point = "忻州北收费站"
	for i, cp := range []string{point, point + " ", "\u3000" + point} {
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
			"checkpoint", cp, "campaign", "冬季专项"+strings.Repeat(" ", i), "plate", "晋H7E12"+strconv.Itoa(i), "emission_stage", "cn6",
			"fuel", "natural_gas", "aftertreatment", "removed", "checked_at", "2026-11-28T10:00:00+08:00")))
	}
	// A road's checkpoint typed in full-width letters and digits, with a
	// pinyin keyboard's thin space after it, or an IME's space inside.
	for i, cp := range []string{"G108检查站", "G108\u3000检查站", "Ｇ１０８检查站", "G108检查站\u2006"} {
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
			"checkpoint", cp, "plate", "晋H8G10"+strconv.Itoa(i), "emission_stage", "cn6",
			"fuel", "natural_gas", "aftertreatment", "removed", "checked_at", "2026-11-28T10:00:00+08:00")))
	}
	// Two older checks with no checkpoint, and one blank.
	ve := server.EntityByName(syncproto.EntityVehicleCheck)
	for i, raw := range []string{`null`, `""`, `"　 "`} {
		id := uuid.NewString()
		serverWrite(t, srv, ve.Name, id, apptest.Xinfu, map[string]any{"county": apptest.Xinfu, "checkpoint": "旧",
			"plate": "晋H0000" + strconv.Itoa(i), "emission_stage": "cn5", "checked_at": "2026-11-27T10:00:00+08:00"})
		err := srv.App.DB.Update(ctx, func(tx server.WriteTx) error {
			r, err := tx.Get(ctx, ve, id)
			if err != nil {
				return err
			}
			f := r.State.Fields["checkpoint"]
			f.Value = json.RawMessage(raw)
			r.State.Fields["checkpoint"] = f
			return tx.Put(ctx, r)
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	county := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, county, "/console/vehicles")
	rows := tableRows(t, page, "by-checkpoint")
	for _, want := range []string{"忻府区|" + point + "|3|0|3|0|3|100.0%", "忻府区|（未填检查站）|3|3|0|0|0|—", "忻府区|G108检查站|4|0|4|0|4|100.0%"} {
		if !slices.Contains(rows, want) {
			t.Errorf("by checkpoint lacks %q; rows:\n%s", want, strings.Join(rows, "\n"))
		}
	}
	if rows := tableRows(t, page, "by-campaign"); !slices.ContainsFunc(rows, func(r string) bool { return strings.HasPrefix(r, "冬季专项|"+point+"|3|") }) {
		t.Errorf("by action: the action typed with spaces is not one row:\n%s", strings.Join(rows, "\n"))
	}
	for name, n := range map[string]int{point: 3, "（未填检查站）": 3} {
		m := regexp.MustCompile(`<tr><td[^>]*>忻府区</td><th[^>]*><a href="([^"]+)">` + regexp.QuoteMeta(name) + `</a>`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("no link on the row of %s", name)
			continue
		}
		linked := mustGet(t, county, html.UnescapeString(m[1]))
		if records := tableRows(t, linked, "vehicle-records")[1:]; len(records) != n || !strings.Contains(linked, fmt.Sprintf("共 %d 条", n)) {
			t.Errorf("%s links to %d records, want %d:\n%s", name, len(records), n, strings.Join(records, "\n"))
		}
	}

	body, f := download(t, county, "/console/report.xlsx?month=2026-11")
	var points []string
	for _, r := range checkSheet(t, body, f, "路检路查统计")[2:] {
		if strings.Contains(r[1], point) {
			points = append(points, strings.Join(r[:4], "|"))
		}
	}
	if want := []string{"忻府区|" + point + "|冬季专项|3"}; !slices.Equal(points, want) {
		t.Errorf("the report's roadside rows of %s: %v, want %v", point, points, want)
	}
}
