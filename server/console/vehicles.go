package console

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// noCampaign is the special-action table's row of the checks made outside
// any special action, so that the table adds up to the total.
const noCampaign = server.NoCampaign

type vehicleRow struct {
	County, Checkpoint, Campaign string
	Trucks, G5, G6, Removed      int
	Other                        int    // neither 国五 nor 国六: older, or the stage not recorded
	Rate                         string // in percent, or noRate
	Link                         string // the records behind the figures
	// GasG6, GasRemoved and GasRate: the 国六 gas trucks among them
	// (server.VehicleStat's).
	GasG6, GasRemoved int
	GasRate           string
}

func vehicleRowOf(county, checkpoint, campaign string, v server.VehicleStat, filter url.Values) vehicleRow {
	if filter.Has("checkpoint") {
		filter.Set("exact", "1") // the checks the row counts, not those of checkpoints that contain its name
	}
	return vehicleRow{County: county, Checkpoint: checkpoint, Campaign: campaign, Trucks: v.Trucks, G5: v.G5, G6: v.G6, Removed: v.Removed,
		Other: v.Trucks - v.G5 - v.G6, Rate: rateText(v.Removed, v.G6), Link: "/console/vehicles?" + filter.Encode() + "#records",
		GasG6: v.GasG6, GasRemoved: v.GasRemoved, GasRate: rateText(v.GasRemoved, v.GasG6)}
}

// noteShown is how much of a check's note the list shows (its page, the
// whole): a note of 2,000 characters filled screens on a phone.
const noteShown = 80

type vehicleRecord struct {
	ID, Checked, County, Checkpoint, Campaign, Plate, Stage, Fuel, After, Action, Note string
	FullNote                                                                           string
	Removed                                                                            bool
	Voided                                                                             bool // by an office: counted in no statistic
	// Twins are the truck's other checks that count, of the same day at
	// the same checkpoint (sameDayTwins): likely the same truck saved
	// twice, on two phones.
	Twins int
}

// sameDayTwins counts, for each check of recs, the other checks that
// count (not voided) of its truck made on its day (in China) at its
// checkpoint, in scope: the same truck saved twice — on two phones of a
// crew, each asking about its own saves only — counts twice in every
// statistic until an office voids one (clock probe). 0 for a voided
// check. One query serves a page: the checks of its plates from the day
// before its earliest check to the day after its latest.
func (c *Console) sameDayTwins(ctx context.Context, scope server.Scope, recs ...*server.StoredRecord) ([]int, error) {
	out := make([]int, len(recs))
	// twinKey is a check's truck, day in China and checkpoint; "" for one
	// no other can be the twin of.
	twinKey := func(r *server.StoredRecord) (key, day string) {
		plate, at := r.Text("plate"), localTime(r.Text("checked_at"))
		if plate == "" || r.Text("voided_at") != "" || len(at) < 10 {
			return "", ""
		}
		if _, err := time.Parse(time.DateOnly, at[:10]); err != nil {
			return "", ""
		}
		return plate + "\x00" + at[:10] + "\x00" + server.LabelKey(r.Text("checkpoint")), at[:10]
	}
	var plates []string
	first, last := "", ""
	for _, r := range recs {
		if k, day := twinKey(r); k != "" {
			if !slices.Contains(plates, r.Text("plate")) {
				plates = append(plates, r.Text("plate"))
			}
			if first == "" || day < first {
				first = day
			}
			last = max(last, day)
		}
	}
	if len(plates) == 0 {
		return out, nil
	}
	// A day either side read (a time stored before times were stored at
	// +08:00 may be a day off by its text), the day in China kept.
	from, _ := time.Parse(time.DateOnly, first)
	to, _ := time.Parse(time.DateOnly, last)
	same, _, err := c.d.Store.VehicleChecks(ctx, server.VehicleQuery{Scope: scope, Plates: plates,
		After: from.AddDate(0, 0, -1).Format(time.DateOnly), Before: to.AddDate(0, 0, 2).Format(time.DateOnly), Limit: 50 * len(plates)})
	if err != nil {
		return nil, err
	}
	n := map[string]int{}
	for _, o := range same {
		if k, _ := twinKey(o); k != "" {
			n[k]++
		}
	}
	for i, r := range recs {
		if k, _ := twinKey(r); k != "" {
			// r itself is among them (it counts and is in the days read).
			out[i] = max(n[k]-1, 0)
		}
	}
	return out, nil
}

// vehicleLabel returns the Chinese label of a vehicle_check field's code.
func vehicleLabel(r *server.StoredRecord, field string) string {
	f, _ := r.Entity.Field(field)
	return f.Label(r.Text(field))
}

// vehicleQuery reads the roadside records' filter from the request's
// query (the vehicles page's form and its figures' links), at most limit
// records. The checkpoint and plate typed in the form match a part of
// the value (server.VehicleQuery.Partial); a link from a figure or to a
// truck's checks adds exact=1 to match the whole. Errors: out_of_scope
// for a county the user cannot see.
func (c *Console) vehicleQuery(ec echo.Context, limit int) (server.VehicleQuery, error) {
	p := principalOf(ec)
	checkpoint, err1 := typedParam(ec, "checkpoint")
	campaign, err2 := typedParam(ec, "campaign")
	plate, err3 := typedParam(ec, "plate")
	if err := cmp.Or(err1, err2, err3); err != nil {
		return server.VehicleQuery{}, err
	}
	flags := map[string]bool{}
	for _, name := range []string{"exact", "nocheckpoint", "nocampaign", "g6", "removed", "voided"} {
		var err error
		if flags[name], err = flagParam(ec, name); err != nil {
			return server.VehicleQuery{}, err
		}
	}
	q := server.VehicleQuery{Scope: p.Scope(), County: ec.QueryParam("county"), Checkpoint: checkpoint,
		Campaign: campaign, Plate: plate, Partial: !flags["exact"],
		NoCheckpoint: flags["nocheckpoint"], NoCampaign: flags["nocampaign"],
		G6: flags["g6"], Removed: flags["removed"], Action: ec.QueryParam("action"), Limit: limit}
	if flags["voided"] {
		q.Voided = server.OnlyVoided
	}
	if q.Action != "" && syncproto.Label(syncproto.VehicleActions, q.Action) == q.Action {
		return q, server.Errorf(syncproto.CodeInvalidValue, "没有“%s”这种处理方式（处罚 fine、责令维修 repair、放行 release）", q.Action)
	}
	if err := c.checkCounty(p, q.County, "路检记录"); err != nil {
		return q, err
	}
	var err error
	q.After, q.Before, err = dateRange(ec.QueryParam("from"), ec.QueryParam("to"))
	return q, err
}

// typedParam is query parameter name as a search looks for it
// (server.SearchText): what was typed or pasted into a filter, without
// the characters that print nothing (a zero-width space, a direction
// mark) and with its spaces folded, as the header's search has it — a
// plate pasted from a chat with a zero-width space in it found nothing
// on 路检路查 that the header's search found.
// A filter longer than maxTyped characters is refused (bad_request), as
// the header's search refuses one: no name, plate or checkpoint is that
// long, and SQLite refuses a LIKE pattern past 50,000 bytes (a 500, and
// an ERROR logged, for a filter pasted whole from a document: attacker
// probe).
func typedParam(ec echo.Context, name string) (string, error) {
	s := server.SearchText(ec.QueryParam(name))
	if utf8.RuneCountInString(s) > maxTyped {
		return "", server.Errorf(syncproto.CodeBadRequest, "搜索内容不能超过 %d 个字", maxTyped).At(name)
	}
	return s, nil
}

// maxTyped is the most characters a filter typed in a box may hold: the
// longest value one may name whole (a site's address; a checkpoint, or a
// site's name, is at most 200, and a figure's link names it whole).
const maxTyped = 500

// dateRange reads a period of dates in China (YYYY-MM-DD, either may be
// empty; from not after to), from to to inclusive, as bounds on a stored
// time: after <= t < before (server.VehicleQuery.After, Before). Errors:
// bad_request.
func dateRange(from, to string) (after, before string, err error) {
	var last time.Time
	for i, d := range []string{from, to} {
		t, err := time.Parse(time.DateOnly, d)
		if d != "" && err != nil {
			return "", "", server.Errorf(syncproto.CodeBadRequest, "日期格式应为 2026-03-01")
		}
		if i == 1 {
			last = t
		}
	}
	if from != "" && to != "" && from > to {
		return "", "", server.Errorf(syncproto.CodeBadRequest, "开始日期 %s 晚于结束日期 %s", from, to)
	}
	if next := last.AddDate(0, 0, 1); to != "" && next.Year() <= 9999 { // after 9999-12-31 nothing is
		before = next.Format(time.DateOnly)
	}
	return from, before, nil
}

// vehicles shows the roadside vehicle-check statistics in the user's scope
// — per special action (专项行动, across its checkpoints, and the checks
// outside any), per checkpoint and per county — and the records behind
// them, filtered by county, checkpoint, action and removed after-treatment.
func (c *Console) vehicles(ec echo.Context) error {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	q, err := c.vehicleQuery(ec, pageSize)
	if err != nil {
		return err
	}
	// The statistics of the period and the county chosen, which their
	// links keep; the other filters narrow the list below them.
	stats, err := c.d.Store.VehicleStats(ctx, server.VehicleQuery{Scope: p.Scope(), County: q.County, After: q.After, Before: q.Before})
	if err != nil {
		return err
	}
	periodText := period(ec.QueryParam("from"), ec.QueryParam("to"))
	period := nonEmpty(map[string]string{"from": ec.QueryParam("from"), "to": ec.QueryParam("to"), "county": q.County})
	link := func(filter url.Values) url.Values {
		for k, v := range period {
			filter[k] = v
		}
		return filter
	}
	var points, campaigns, counties []vehicleRow
	keys, sums := server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.County + "\x00" + v.Checkpoint })
	for _, k := range keys {
		county, cp, _ := strings.Cut(k, "\x00")
		name, filter := cp, url.Values{"county": {county}, "checkpoint": {cp}}
		if name == "" {
			name, filter = "（未填检查站）", url.Values{"county": {county}, "nocheckpoint": {"1"}}
		}
		points = append(points, vehicleRowOf(c.countyName(county), name, "", sums[k], link(filter)))
	}
	keys, sums = server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.Campaign })
	var unlisted *vehicleRow
	for _, k := range keys {
		// The checkpoints the action spans, for the row's label.
		var where []string
		for _, v := range stats {
			if v.Campaign == k && !slices.Contains(where, v.Checkpoint) {
				where = append(where, v.Checkpoint)
			}
		}
		if k == "" {
			row := vehicleRowOf("", strings.Join(where, "、"), noCampaign, sums[k], link(url.Values{"nocampaign": {"1"}}))
			unlisted = &row
			continue
		}
		campaigns = append(campaigns, vehicleRowOf("", strings.Join(where, "、"), k, sums[k], link(url.Values{"campaign": {k}})))
	}
	listed := campaigns // the actions, for the records' filter
	if unlisted != nil {
		campaigns = append(campaigns, *unlisted)
	}
	keys, sums = server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.County })
	var total server.VehicleStat
	for _, k := range keys {
		counties = append(counties, vehicleRowOf(c.countyName(k), "", "", sums[k], link(url.Values{"county": {k}})))
		total.Add(sums[k])
	}

	page := pageParam(ec)
	q.Offset = (page - 1) * pageSize
	recs, n, err := c.d.Store.VehicleChecks(ctx, q)
	if err != nil {
		return err
	}
	twins, err := c.sameDayTwins(ctx, p.Scope(), recs...)
	if err != nil {
		return err
	}
	records := make([]vehicleRecord, 0, len(recs))
	for i, r := range recs {
		v := vehicleRecordOf(c, r)
		v.Twins = twins[i]
		records = append(records, v)
	}
	filters := link(nonEmpty(map[string]string{"checkpoint": q.Checkpoint, "campaign": q.Campaign, "plate": q.Plate, "action": q.Action}))
	exact := !q.Partial && (q.Checkpoint != "" || q.Plate != "")
	voided := q.Voided == server.OnlyVoided
	for name, on := range map[string]bool{"nocheckpoint": q.NoCheckpoint, "nocampaign": q.NoCampaign, "g6": q.G6, "removed": q.Removed, "exact": exact, "voided": voided} {
		if on {
			filters.Set(name, "1")
		}
	}
	// The checks offices voided under the same filter: not counted, and
	// listed only when asked for.
	others := q
	others.Voided, others.Limit, others.Offset = server.OnlyVoided, 1, 0
	if voided {
		others.Voided = server.NotVoided
	}
	_, otherN, err := c.d.Store.VehicleChecks(ctx, others)
	if err != nil {
		return err
	}
	toggled := url.Values{}
	for k, v := range filters {
		toggled[k] = v
	}
	if voided {
		toggled.Del("voided")
	} else {
		toggled.Set("voided", "1")
	}
	data := map[string]any{"Voided": voided, "OtherN": otherN, "OtherLink": "/console/vehicles?" + toggled.Encode() + "#records",
		"Points": points, "Campaigns": campaigns, "Listed": listed, "Counties": counties,
		"Total": vehicleRowOf("合计", "", "", total, url.Values{}), "Records": records, "Q": q, "N": n,
		"Filtered": len(filters) > len(period), "NoCampaign": noCampaign, "From": period.Get("from"), "To": period.Get("to"),
		"PeriodQuery": template.URL(period.Encode()), "Period": periodText,
		"Scope": vehicleScope(c, q.County, periodText), "CountyChoices": c.countyChoices(p, q.County), "Actions": syncproto.VehicleActions}
	pageLinks(data, "/console/vehicles", filters, "#records", page, q.Offset+len(recs), n)
	return c.render(ec, http.StatusOK, "vehicles.html", data)
}

// vehicleScope says what the statistics count when not every check of
// the viewer's: a county's, in a period ("定襄县 2026-12-01 起"); "" for
// all.
func vehicleScope(c *Console, county, period string) string {
	var parts []string
	if county != "" {
		parts = append(parts, c.countyName(county))
	}
	if period != "" {
		parts = append(parts, period)
	}
	// A space between a date and Chinese text, none between Chinese.
	out := strings.Join(parts, " ")
	if out != "" && out[0] >= '0' && out[0] <= '9' {
		out = " " + out
	}
	if out != "" && out[len(out)-1] >= '0' && out[len(out)-1] <= '9' {
		out += " "
	}
	return out
}

// withUnit writes a number with its unit as people read it: a percent
// sign against it, other units a space after (46%, 1 级, 1.2 m⁻¹).
func withUnit(v, unit string) string {
	switch unit {
	case "":
		return v
	case "%":
		return v + unit
	}
	return v + " " + unit
}

// unitOf is the unit of an entity's number field.
func unitOf(e *server.Entity, field string) string {
	if f, _ := e.Field(field); f != nil {
		return f.Unit
	}
	return ""
}

// checkpointNote says how a roadside check's checkpoint (free text, as
// a crew names it) stands among the sites, names compared as the
// statistics count them (server.LabelKey): nothing when it is one of the
// county's checkpoints; a warning when it is only the name of another
// kind of site of the county, or of a site of another county (a
// construction site, another county's checkpoint, counted as this
// county's checkpoint in the statistics: the referential probe), naming
// that county only within the viewer's scope; otherwise a hint that it
// is no checkpoint the county registered, with those it did. A retired
// checkpoint is said to be one.
func (c *Console) checkpointNote(ctx context.Context, p *server.Principal, county, checkpoint string) (string, bool, error) {
	key := server.LabelKey(checkpoint)
	// The county's sites, every county's checkpoints, and sites of any
	// county named exactly so (another kind of site elsewhere).
	var sites []*server.StoredRecord
	for _, q := range [][2]string{{"county", county}, {"kind", "checkpoint"}, {"name", checkpoint}} {
		found, err := c.d.Store.Find(ctx, syncproto.EntitySite, q[0], q[1])
		if err != nil {
			return "", false, err
		}
		sites = append(sites, found...)
	}
	var registered []string
	var ownOther, elsewhere *server.StoredRecord
	for _, s := range sites {
		if s.State.IsDeleted() {
			continue
		}
		same, mine, post := server.LabelKey(s.Text("name")) == key, s.County == county, s.Text("kind") == "checkpoint"
		retired := string(s.Value("active")) == "false"
		switch {
		case mine && post && same && retired:
			return "这是本县已停用的路检点", false, nil
		case mine && post && same:
			return "", false, nil
		case mine && post && !retired:
			registered = append(registered, s.Text("name"))
		case mine && same:
			ownOther = s
		case same && elsewhere == nil:
			elsewhere = s
		}
	}
	switch {
	case ownOther != nil:
		return "⚠ 这是本县一处" + siteKindName(ownOther.Text("kind")) + "的名称，不是路检点；此记录仍按检查站计入路检统计", true, nil
	case elsewhere != nil:
		where := "其他区县"
		if p.CanSee(elsewhere.County) {
			where = c.countyName(elsewhere.County)
		}
		return "⚠ 这是" + where + "一处" + siteKindName(elsewhere.Text("kind")) + "的名称，不在本记录所属的" + c.countyName(county) +
			"；此记录计入" + c.countyName(county) + "的路检统计", true, nil
	case len(registered) == 0:
		return "本县尚未登记路检点", false, nil
	}
	slices.Sort(registered)
	return "不是本县登记的路检点（已登记：" + strings.Join(slices.Compact(registered), "、") + "）", false, nil
}

// vehicleFact is one line of a roadside check's page: what was checked,
// and what was found.
type vehicleFact struct {
	Label, Value string
	Alert        bool // a finding against the truck (after-treatment removed, OBD fault lamp on)
	Unit         string
	Number       any // a number's value (float64), for the export; nil for text or none
}

// vehicleFacts are what the inspector recorded of the truck, beside its
// plate, place and time: the check's page lists them, and the records'
// export has a column of each.
func vehicleFacts(r *server.StoredRecord) []vehicleFact {
	text := func(field string) string { return cmp.Or(r.Text(field), "—") }
	number := func(label, field string) vehicleFact {
		f := vehicleFact{Label: label, Value: "—", Unit: unitOf(r.Entity, field)}
		if v, ok := r.Float(field); ok {
			f.Value, f.Number = withUnit(strconv.FormatFloat(v, 'f', -1, 64), f.Unit), v
		}
		return f
	}
	mil := "—"
	if v := r.Value("obd_mil"); v != nil {
		mil = map[string]string{"true": "亮", "false": "未亮"}[string(v)]
	}
	return []vehicleFact{
		{Label: "号牌颜色", Value: text("plate_color")}, {Label: "号牌种类", Value: text("plate_type")},
		{Label: "车辆识别代号（VIN）", Value: text("vin")},
		{Label: "排放阶段", Value: cmp.Or(vehicleLabel(r, "emission_stage"), "—")}, {Label: "燃料", Value: cmp.Or(vehicleLabel(r, "fuel"), "—")},
		{Label: "后处理装置", Value: cmp.Or(vehicleLabel(r, "aftertreatment"), "—"), Alert: r.Text("aftertreatment") == syncproto.AftertreatmentRemoved},
		{Label: "OBD 故障灯", Value: mil, Alert: mil == "亮"}, {Label: "OBD 故障码", Value: text("obd_codes")},
		number("尿素液位", "urea_level_pct"), number("林格曼黑度", "ringelmann"),
		number("不透光烟度（光吸收系数）", "opacity"), {Label: "遥感检测编号", Value: text("remote_sensing_id")},
		{Label: "处理", Value: cmp.Or(vehicleLabel(r, "action"), "—")}, {Label: "备注", Value: text("note")},
	}
}

// vehicle shows one roadside check in the user's scope: every field the
// inspector recorded, who and which phone recorded it, its photos (with
// their flags and their distance from where the check was made), and the
// truck's other checks, found by its plate.
func (c *Console) vehicle(ec echo.Context) error {
	ctx := ec.Request().Context()
	p := principalOf(ec)
	r, err := c.visible(ec, syncproto.EntityVehicleCheck)
	if err != nil {
		return err
	}
	facts := vehicleFacts(r)
	removed := r.Text("aftertreatment") == syncproto.AftertreatmentRemoved
	data := map[string]any{"ID": r.ID, "Plate": r.Text("plate"), "County": c.countyName(r.County),
		"Checkpoint": r.Text("checkpoint"), "Campaign": r.Text("campaign"), "Checked": localTime(r.Text("checked_at")),
		"CheckedAhead": clockAhead(r.Text("checked_at"), r.CreatedAt), "CheckedLate": arrivedLate(r.Text("checked_at"), r.CreatedAt),
		"Received": r.CreatedAt.In(chinaTime).Format("2006-01-02 15:04"), "Inspector": c.userName(ctx, r.CreatedBy),
		"Device": c.deviceNames(ec).name(r.CreatedDevice), "Facts": facts, "Removed": removed, "AnchorName": "检查位置",
		// The plan counts 国六 trucks: the warning says which, as the figures do.
		"RemovedG6": removed && r.Text("emission_stage") == syncproto.StageCN6}
	if data["CheckpointNote"], data["CheckpointWarn"], err = c.checkpointNote(ctx, p, r.County, r.Text("checkpoint")); err != nil {
		return err
	}
	var anchor *geo.Point
	lon, ok1 := r.Float("lon")
	lat, ok2 := r.Float("lat")
	if ok1 && ok2 {
		anchor = &geo.Point{Lon: lon, Lat: lat}
		data["Location"] = lonLat(lon, lat)
	}
	ps, err := c.d.Store.Find(ctx, syncproto.EntityPhoto, "vehicle_check_id", r.ID)
	if err != nil {
		return err
	}
	// A roadside check's photos name the roadside checklist's items (plate,
	// twc …): shown by their labels, as an inspection's are.
	if data["Photos"], err = c.photos(ec, ps, anchor, itemLabels(c.set.ItemsEver(server.RoadsideTemplate))); err != nil {
		return err
	}
	refs := append([]recordRef{{syncproto.EntityVehicleCheck, r.ID}}, photoRefs(data["Photos"].([]photoRow))...)
	if data["Conflicts"], err = c.conflictRows(ctx, p, nil, refs...); err != nil {
		return err
	}
	if data["History"], err = c.history(ec, r, nil); err != nil {
		return err
	}
	twins, err := c.sameDayTwins(ctx, p.Scope(), r)
	if err != nil {
		return err
	}
	data["Twins"] = twins[0]
	if plate := r.Text("plate"); plate != "" {
		// The truck's other checks in the user's scope, latest first.
		others, n, err := c.d.Store.VehicleChecks(ctx, server.VehicleQuery{Scope: p.Scope(), Plate: plate, Voided: server.AnyVoided, Limit: 20})
		if err != nil {
			return err
		}
		var rows []vehicleRecord
		for _, o := range others {
			if o.ID != r.ID {
				rows = append(rows, vehicleRecordOf(c, o))
			}
		}
		data["Others"], data["OthersN"] = rows, n-1
		if n-1 > len(rows) {
			// The list the link opens counts the voided apart: say how
			// many of the N are.
			_, voided, err := c.d.Store.VehicleChecks(ctx, server.VehicleQuery{Scope: p.Scope(), Plate: plate, Voided: server.OnlyVoided, Limit: 1})
			if err != nil {
				return err
			}
			if r.Text("voided_at") != "" {
				voided--
			}
			data["OthersVoided"] = voided
		}
		data["OthersLink"] = "/console/vehicles?" + url.Values{"plate": {plate}, "exact": {"1"}}.Encode() + "#records"
	}
	// An office's voiding: who, when, why; and the form that voids or
	// restores, offered to an office not the check's author.
	data["Seq"] = r.Seq
	data["Done"] = takeNotice(ec).Get("done")
	if at := r.Text("voided_at"); at != "" {
		data["VoidedAt"], data["VoidedBy"], data["VoidReason"] = localTime(at), c.userName(ctx, r.Text("voided_by")), r.Text("void_reason")
	}
	mine, err := c.d.Syncer.HandsOf(ctx, p)
	if err != nil {
		return err
	}
	own := mine.In(p, append(ps, r)...) // the check, or its photos
	data["CanVoid"] = p.Role.CanReview() && !own
	data["OwnWork"] = p.Role.CanReview() && own
	return c.render(ec, http.StatusOK, "vehicle.html", data)
}

// vehicleRecordOf is a roadside check's row in a list.
func vehicleRecordOf(c *Console, r *server.StoredRecord) vehicleRecord {
	return vehicleRecord{ID: r.ID, Checked: localTime(r.Text("checked_at")), County: c.countyName(r.County),
		Checkpoint: r.Text("checkpoint"), Campaign: r.Text("campaign"), Plate: r.Text("plate"),
		Stage: vehicleLabel(r, "emission_stage"), Fuel: vehicleLabel(r, "fuel"), After: vehicleLabel(r, "aftertreatment"),
		Action: vehicleLabel(r, "action"), Note: server.Abridge(r.Text("note"), noteShown), FullNote: r.Text("note"),
		Removed: r.Text("aftertreatment") == syncproto.AftertreatmentRemoved, Voided: r.Text("voided_at") != ""}
}

// voidVehicle takes an office's voiding of a roadside check, or its
// restoring, and shows the check again.
func (c *Console) voidVehicle(ec echo.Context) error {
	id, decision, comment, seen := ec.Param("id"), ec.FormValue("decision"), ec.FormValue("comment"), formSeq(ec.FormValue("seq"))
	ctx, p := ec.Request().Context(), principalOf(ec)
	if _, err := c.d.Syncer.VoidVehicleCheck(ctx, p, id, decision, comment, server.Seen{Seq: seen}); err != nil {
		// The same decision sent again (a double click) finds the first
		// in effect: answered as the first was.
		if server.ErrorCode(err) != syncproto.CodeConflict {
			return err
		}
		if _, done, derr := server.VoidInEffect(ctx, c.d.Store, p, id, decision, comment, seen); derr != nil || !done {
			return err
		}
	}
	return redirectDone(ec, withQuery("/console/vehicles/"+url.PathEscape(id), withBack(ec, url.Values{})), url.Values{"done": {decision}})
}
