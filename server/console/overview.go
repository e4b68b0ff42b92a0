package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
)

// overviewWeeks is how many weeks the roadside chart shows.
const overviewWeeks = 6

type countyStatusRow struct {
	County                               string
	Submitted, Returned, Approved, Total int
}

type weekRateRow struct {
	Checkpoint string
	Cells      []weekCell
	Chart      template.HTML
}

type weekCell struct {
	G6, Removed int
	Rate        string // "" without 国六 trucks
	Link        string // the roadside records the figure counts
}

// overview is the console's first page: the month at a glance for the
// viewer's counties, with each chart's figures in a table beside it.
func (c *Console) overview(ec echo.Context) error {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	now := c.now().In(chinaTime)
	today := now.Format(time.DateOnly)
	// The month of the charts: this one, or one asked for (?month=YYYY-MM).
	// The inspections chart counts that month; the roadside chart shows
	// the weeks up to its last (for this month, up to this week). The
	// figures above them are as they stand today.
	month, monthStart, err := requestedMonth(ec.QueryParam("month"), now, "概览")
	if err != nil {
		return err
	}
	monthEnd := monthStart.AddDate(0, 1, -1)
	tallies, err := c.d.Store.InspectionTally(ctx, server.InspectionQuery{Scope: p.Scope(),
		From: monthStart.Format(time.DateOnly), To: monthEnd.Format(time.DateOnly)})
	if err != nil {
		return err
	}
	thisMonth := month == now.Format("2006-01")
	lastDay := now
	if !thisMonth {
		lastDay = monthEnd
	}
	monday := lastDay.AddDate(0, 0, -((int(lastDay.Weekday())+6)%7)).AddDate(0, 0, -7*(overviewWeeks-1))
	since := monday.Format(time.DateOnly)
	// Up to the month's last day (for this month, today): a check made
	// later is no figure of the month, and one dated tomorrow (a phone's
	// clock ahead) not yet one of today's.
	o, err := c.d.Store.Overview(ctx, p.Scope(), today, since, lastDay.AddDate(0, 0, 1).Format(time.DateOnly))
	if err != nil {
		return err
	}
	// The rectifications an office may verify now: its next work, as the
	// flagged inspections waiting are (the findings list's 已整改（待核实）).
	_, toVerify, err := c.d.Store.Findings(ctx, server.FindingQuery{Scope: p.Scope(), Status: "rectified", Verifiable: true, Limit: 1})
	if err != nil {
		return err
	}
	// Inspections this month by county and status.
	byCounty := map[string]*countyStatusRow{}
	var rows []*countyStatusRow
	total := &countyStatusRow{County: "合计"}
	// Every county of the viewer's, those without an inspection too: a
	// city comparing counties looks for those first.
	for _, ct := range c.counties {
		if p.CanSee(ct.Code) {
			byCounty[ct.Code] = &countyStatusRow{County: c.countyName(ct.Code)}
			rows = append(rows, byCounty[ct.Code])
		}
	}
	for _, t := range tallies {
		r := byCounty[t.County]
		if r == nil {
			r = &countyStatusRow{County: c.countyName(t.County)}
			byCounty[t.County] = r
			rows = append(rows, r)
		}
		for _, x := range []*countyStatusRow{r, total} {
			switch t.Status {
			case "submitted":
				x.Submitted += t.N
			case "returned":
				x.Returned += t.N
			case "approved":
				x.Approved += t.N
			}
			x.Total += t.N
		}
	}
	// Overdue rectification tasks: those with a county in scope past the
	// deadline without finishing.
	tasks, err := c.d.Store.Tasks(ctx)
	if err != nil {
		return err
	}
	progress, err := c.d.Store.TaskProgress(ctx, p.Scope())
	if err != nil {
		return err
	}
	ix := server.IndexProgress(progress)
	overdueTasks := 0
	for _, t := range tasks {
		if l := server.LedgerOf(t, ix, p.CanSee, today); len(l.Rollup.Overdue) > 0 {
			overdueTasks++
		}
	}
	// Devices not synced for StaleAfter.
	devs, err := c.d.Store.Devices(ctx, p.Scope())
	if err != nil {
		return err
	}
	stale, refused := 0, 0
	for _, d := range devs {
		if d.Stale(c.now()) {
			stale++
		}
		if d.PushesRefused() != nil {
			refused++
		}
	}
	// Roadside removal rate per checkpoint and week.
	var weeks []string
	for i := range overviewWeeks {
		weeks = append(weeks, monday.AddDate(0, 0, 7*i).Format(time.DateOnly))
	}
	var rates []*weekRateRow
	byPoint := map[string]*weekRateRow{}
	for _, w := range o.Weeks {
		i := slices.Index(weeks, w.Week)
		if i < 0 {
			continue
		}
		key := w.County + "\x00" + w.Checkpoint
		r := byPoint[key]
		if r == nil {
			name := w.Checkpoint
			if !strings.HasPrefix(name, c.countyName(w.County)) {
				name = c.countyName(w.County) + " " + name
			}
			r = &weekRateRow{Checkpoint: name, Cells: make([]weekCell, overviewWeeks)}
			for j := range r.Cells {
				// The week's checks at the checkpoint, up to the day the
				// figure stops at (the month's last, or today): the list
				// then counts what the cell counts.
				start, _ := time.ParseInLocation(time.DateOnly, weeks[j], chinaTime)
				end := start.AddDate(0, 0, 6)
				if end.After(lastDay) {
					end = lastDay
				}
				// 国六 only: the rate is of them (removed / 国六).
				f := url.Values{"county": {w.County}, "from": {weeks[j]}, "to": {end.Format(time.DateOnly)}, "g6": {"1"}}
				if w.Checkpoint == "" {
					f.Set("nocheckpoint", "1")
				} else {
					f.Set("checkpoint", w.Checkpoint)
					f.Set("exact", "1")
				}
				r.Cells[j].Link = "/console/vehicles?" + f.Encode() + "#records"
			}
			byPoint[key] = r
			rates = append(rates, r)
		}
		r.Cells[i].G6 += w.G6
		r.Cells[i].Removed += w.Removed
	}
	for _, r := range rates {
		vals := make([]float64, len(r.Cells))
		for i := range r.Cells {
			if cl := &r.Cells[i]; cl.G6 > 0 {
				// Rounded as the roadside page rounds it (half up).
				vals[i] = server.VehicleStat{G6: cl.G6, Removed: cl.Removed}.Rate()
				cl.Rate = rateText(cl.Removed, cl.G6)
			}
		}
		r.Chart = weekChart(vals, r.Cells)
	}
	weekLabels := make([]string, len(weeks))
	last := lastDay.Format(time.DateOnly)
	for i, w := range weeks {
		// The last week is cut at the day the figures stop at (the
		// month's last, or today): said, so that a week of a day or two
		// is not read as a whole one (month-end probe).
		start, _ := time.ParseInLocation(time.DateOnly, w, chinaTime)
		switch {
		case !start.AddDate(0, 0, 6).After(lastDay):
			weekLabels[i] = w[5:] + "起"
		case w == last:
			weekLabels[i] = w[5:] + "（仅 1 天）"
		default:
			weekLabels[i] = w[5:] + "至" + last[5:]
		}
	}
	data := map[string]any{
		"Month": monthStart.Format("2006年1月"), "MonthParam": month, "ThisMonth": thisMonth, "MonthPath": "/console/overview",
		"PrevMonth": monthStart.AddDate(0, -1, 0).Format("2006-01"), "NextMonth": monthStart.AddDate(0, 1, 0).Format("2006-01"),
		"Rows": rows, "Total": total, "Chart": countyChart(rows),
		"Flagged": o.FlaggedWaiting, "ToVerify": toVerify, "OverdueFindings": o.OverdueFindings, "OverdueTasks": overdueTasks, "Stale": stale, "Refused": refused,
		"Rates": rates, "Weeks": weekLabels, "Today": today,
	}
	return c.render(ec, http.StatusOK, "overview.html", data)
}

// Colours of the inspection statuses in the charts.
const (
	colSubmitted = "#e0a030"
	colReturned  = "#c62828"
	colApproved  = "#2e7d4f"
)

// countyChart draws the month's inspections per county as horizontal
// bars stacked by status.
func countyChart(rows []*countyStatusRow) template.HTML {
	const barW, rowH = 260, 26
	most, labelW := 1, 90
	for _, r := range rows {
		most = max(most, r.Total)
		// Room for the longest name (五台山风景名胜区), at the chart's
		// font size of about 13 px a Chinese character.
		labelW = max(labelW, 20+13*utf8.RuneCountInString(r.County))
	}
	h := max(1, len(rows))*rowH + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="本月各区县检查数量（按状态）">`, labelW+barW+50, h, labelW+barW+50, h)
	for i, r := range rows {
		y := 5 + i*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+17, template.HTMLEscapeString(r.County))
		x := float64(labelW)
		for _, part := range []struct {
			n   int
			col string
		}{{r.Submitted, colSubmitted}, {r.Returned, colReturned}, {r.Approved, colApproved}} { // the table's order
			w := float64(part.n) / float64(most) * barW
			if w > 0 {
				fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"></rect>`, x, y+4, w, rowH-8, part.col)
			}
			x += w
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%d</text>`, x+4, y+17, r.Total)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// weekChart draws a checkpoint's weekly removal rates (percent) as
// columns; a week without 国六 trucks has none.
func weekChart(vals []float64, cells []weekCell) template.HTML {
	const colW, h = 22, 60
	var b strings.Builder
	w := len(vals)*colW + 4
	fmt.Fprintf(&b, `<svg class="chart spark" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="各周拆除率">`, w, h+2, w, h+2)
	fmt.Fprintf(&b, `<line x1="0" y1="%d" x2="%d" y2="%d" stroke="#999"></line>`, h, w, h)
	for i, v := range vals {
		if cells[i].G6 == 0 {
			continue
		}
		bh := v / 100 * (h - 4)
		fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="#c62828"><title>%s</title></rect>`, 2+i*colW+3, h-bh, colW-6, max(bh, 1), cells[i].Rate)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
