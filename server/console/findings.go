package console

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// findingStatusChoices are the findings list's status filter: every
// status, and those still to be rectified together ("todo").
var findingStatusChoices = []option{{Value: "todo", Label: "未整改完成（待整改、整改中）"},
	{Value: "open", Label: "待整改"}, {Value: "rectifying", Label: "整改中"}, {Value: "rectified", Label: "已整改（待核实）"},
	{Value: awaitsApproval, Label: "已整改（所属检查未审核通过，暂不能核实）"}, {Value: "verified", Label: "已核实"}}

// awaitsApproval is the findings list's status of findings reported
// rectified whose inspection is not approved: no one may verify them yet,
// and without it the statuses' lists did not add up to the whole.
const awaitsApproval = "rectified_unapproved"

type findingListRow struct {
	ID, Link, County, Site, Item, Description, Severity, Deadline, Status, StatusCode, Note, Inspector string
	// Visited is when the inspection that found it was made.
	Visited string
	// Overdue is how many days the deadline is past, for a finding still
	// to be rectified (0: not overdue).
	Overdue int
	// Rectified is when a rectified or verified finding was reported, by
	// whom, and when it reached the server (rectificationOf).
	Rectified rectification
}

// findingQuery reads the findings list's filter from the request (the
// page's form and the overview's overdue link). Errors: out_of_scope for
// a county the user cannot see, bad_request for an unknown status or a
// date that is not one.
func (c *Console) findingQuery(ec echo.Context) (server.FindingQuery, error) {
	p := principalOf(ec)
	q := server.FindingQuery{Scope: p.Scope(), County: ec.QueryParam("county"), Limit: pageSize,
		From: ec.QueryParam("from"), To: ec.QueryParam("to")}
	if _, _, err := dateRange(q.From, q.To); err != nil {
		return q, err
	}
	switch st := ec.QueryParam("status"); {
	case st == "todo":
		q.Open = true
	case st != "" && !slices.ContainsFunc(findingStatusChoices, func(o option) bool { return o.Value == st }):
		return q, server.Errorf(syncproto.CodeBadRequest, "未知的问题状态 %q", st)
	case st == awaitsApproval:
		q.Status, q.Unapproved = "rectified", true
	default:
		// 已整改（待核实）: those an office can verify now, not those of
		// an inspection still to be approved.
		q.Status, q.Verifiable = st, st == "rectified"
	}
	if overdue, err := flagParam(ec, "overdue"); err != nil {
		return q, err
	} else if overdue {
		q.OverdueOn = c.today()
	}
	if err := c.checkCounty(p, q.County, "发现问题"); err != nil {
		return q, err
	}
	return q, nil
}

// flagParam reads a filter's yes-or-no query parameter, as the console's
// forms and links write it: 1, or 0 or nothing. Another value (true, on,
// yes: a link typed or made elsewhere) is refused, not read as no, which
// showed every record under a filter the user believed on (city probe:
// overdue=true listed all 171 findings, not the 88 overdue).
func flagParam(ec echo.Context, name string) (bool, error) {
	return flagValue(name, ec.QueryParam(name))
}

// flagValue is flagParam of a value already read.
func flagValue(name, v string) (bool, error) {
	switch v {
	case "", "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, server.Errorf(syncproto.CodeBadRequest, "筛选条件 %s 只能是 1（是）或 0（否），不能是 %q", name, server.Abridge(v, 32))
}

// today is the date in China by the console's clock (YYYY-MM-DD).
func (c *Console) today() string { return c.now().In(chinaTime).Format(time.DateOnly) }

// todayAt is the start of today in China by the console's clock.
func (c *Console) todayAt() time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, c.today(), chinaTime)
	return t
}

// overdueBy is how many days finding f's deadline is past on day today
// (a date's start in China), if it is still to be rectified; else 0.
func overdueBy(f *server.StoredRecord, today time.Time) int {
	d, err := time.ParseInLocation(time.DateOnly, f.Text("deadline"), chinaTime)
	if err != nil || !d.Before(today) || !slices.Contains(server.OpenFindingStatuses, f.Text("status")) {
		return 0
	}
	return int(today.Sub(d).Hours() / 24)
}

// rectification is what an office is told of a finding's rectification
// report (rectificationOf).
type rectification struct {
	// Day is the day in China its inspector reported it rectified ("" for
	// a finding not rectified), Late how many days past its deadline.
	Day  string
	Late int
	// By is the user who reported it ("" when not known); Reporter names
	// them when not the finding's own inspector, whom a row names already
	// (by user, not by name: two people of one name are two).
	By, Reporter string
	// Received is the day the report reached the server, when more than a
	// day after the time its phone gave it or after the deadline;
	// ReceivedLate says the deadline passed in between: in time by the
	// phone's clock, which an inspector may set back (attacker probe),
	// late by the server's.
	Received     string
	ReceivedLate bool
}

// rectificationOf says when finding f was reported rectified, for one
// rectified or verified: the day its inspector reported it (its status's
// HLC, or once verified rectified_at, which keeps it; a finding verified
// before rectified_at was kept has the day an office verified it,
// verified_at), how many days past its deadline that day was (0: in time,
// or no deadline) — the plan holds to account the rectifications not
// done in time, and a finding rectified late had read as one done in
// time once rectified (month-end probe), one rectified in time as late
// once verified late —, who reported it, and when the report reached
// the server (rectified_received_at) if days later. people names the
// users (peopleNames).
func (c *Console) rectificationOf(ec echo.Context, f *server.StoredRecord, people map[string]string) rectification {
	var at time.Time
	switch f.Text("status") {
	case "rectified":
		if h := f.State.Fields["status"].HLC; !h.IsZero() {
			at = h.Time()
		}
	case "verified":
		if at = f.Time("rectified_at"); at.IsZero() {
			at = f.Time("verified_at")
		}
	}
	var r rectification
	if at.IsZero() {
		return r
	}
	r.Day = at.In(chinaTime).Format(time.DateOnly)
	deadline := f.Text("deadline")
	r.Late = daysPast(r.Day, deadline)
	if r.By = c.rectifiedBy(ec, f); r.By != "" && r.By != f.CreatedBy {
		r.Reporter = cmp.Or(people[r.By], r.By)
	}
	if got := f.Time("rectified_received_at"); !got.IsZero() {
		// Said when it came more than a day later, or at all after the
		// deadline when the phone's time was within it: a clock set back
		// by hours is enough to cross a deadline (verification probe).
		day := got.In(chinaTime).Format(time.DateOnly)
		r.ReceivedLate = r.Late == 0 && daysPast(day, deadline) > 0
		if r.ReceivedLate || got.Sub(at) > 24*time.Hour {
			r.Received = day
		}
	}
	return r
}

// daysPast is how many days day (YYYY-MM-DD) is after deadline (0 when
// not, or without a deadline).
func daysPast(day, deadline string) int {
	if deadline == "" || day <= deadline {
		return 0
	}
	d, _ := time.ParseInLocation(time.DateOnly, deadline, chinaTime)
	r, _ := time.ParseInLocation(time.DateOnly, day, chinaTime)
	return int(r.Sub(d).Hours()/24 + 0.5)
}

// findingsList lists the findings of the inspections offices see, in the
// viewer's counties, the earliest deadline first, with how overdue each
// is: the rectification work to chase. Filters: county, status, overdue.
func (c *Console) findingsList(ec echo.Context) error {
	ctx := ec.Request().Context()
	q, err := c.findingQuery(ec)
	if err != nil {
		return err
	}
	page := pageParam(ec)
	q.Offset = (page - 1) * pageSize
	recs, total, err := c.d.Store.Findings(ctx, q)
	if err != nil {
		return err
	}
	today := c.todayAt()
	// Read once for the page: the people, and each checklist's items.
	people := c.peopleNames(ctx)
	items := map[string]map[string]string{}                              // template id@version → item key → label
	back := url.Values{"back": {ec.Request().URL.RequestURI()}}.Encode() // the detail's way back here
	rows := make([]findingListRow, 0, len(recs))
	for _, f := range recs {
		row := findingListRow{ID: f.ID, County: c.countyName(f.County), Description: f.Text("description"),
			Severity: severityNames[f.Text("severity")], Deadline: f.Text("deadline"), StatusCode: f.Text("status"),
			Status: findingStatusNames[f.Text("status")], Note: f.Text("rectification_note"), Inspector: people[f.CreatedBy],
			Link: "/console/inspections/" + url.PathEscape(f.Text("inspection_id")) + "?" + back + "#finding-" + url.PathEscape(f.ID)}
		if row.Status == "" {
			row.Status = "待整改"
		}
		row.Overdue = overdueBy(f, today)
		row.Rectified = c.rectificationOf(ec, f, people)
		if insp, err := c.d.Store.Get(ctx, syncproto.EntityInspection, f.Text("inspection_id")); err == nil && insp != nil {
			row.Site = c.siteName(ec, insp.Text("site_id"))
			row.Visited = visitStarted(insp)
			key := insp.Text("template_id") + "@" + string(insp.Value("template_version"))
			if _, ok := items[key]; !ok {
				items[key] = map[string]string{}
				if tmpl, err := c.template(ec, insp); err == nil {
					items[key] = itemLabels(tmpl.Items)
				}
			}
			row.Item = itemLabel(items[key], f.Text("item_key"))
		}
		rows = append(rows, row)
	}
	status := ec.QueryParam("status")
	overdue := ""
	if q.OverdueOn != "" {
		overdue = "1"
	}
	filters := nonEmpty(map[string]string{"county": q.County, "status": status, "overdue": overdue, "from": q.From, "to": q.To})
	choices := slices.Clone(findingStatusChoices)
	for i := range choices {
		choices[i].Selected = choices[i].Value == status
	}
	data := map[string]any{"Rows": rows, "Total": total, "Counties": c.countyOptions(principalOf(ec), q.County),
		"Statuses": choices, "Overdue": q.OverdueOn != "", "Today": c.today(), "Filtered": len(filters) > 0, "From": q.From, "To": q.To}
	pageLinks(data, "/console/findings", filters, "", page, q.Offset+len(recs), total)
	return c.render(ec, http.StatusOK, "findings.html", data)
}

// peopleNames are the users' display names by id (empty if they cannot
// be read: a name is not worth failing a page for).
func (c *Console) peopleNames(ctx context.Context) map[string]string {
	people := map[string]string{}
	if us, err := c.d.Store.Users(ctx); err == nil {
		for _, u := range us {
			people[u.ID] = u.DisplayName
		}
	}
	return people
}

// overdueDays says how many days past its deadline a finding is.
func overdueDays(n int) string { return "逾期 " + strconv.Itoa(n) + " 天" }
