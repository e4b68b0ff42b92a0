package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

type siteRow struct {
	ID, Name, Kind, County, Address, Position, Radius string
	Active                                            bool
}

type option struct {
	Value, Label string
	Selected     bool
}

// kindOptions are the site kinds for a select, sel selected.
func kindOptions(sel string) []option {
	out := make([]option, 0, len(seeds.SiteKinds))
	for _, k := range seeds.SiteKinds {
		out = append(out, option{Value: k, Label: siteKindName(k), Selected: k == sel})
	}
	return out
}

// countyOptions are the counties p may see, sel selected.
func (c *Console) countyOptions(p *server.Principal, sel string) []option {
	var out []option
	for _, ct := range c.counties {
		if p.Role.AllCounties() || slices.Contains(p.Counties, ct.Code) {
			out = append(out, option{Value: ct.Code, Label: ct.Name, Selected: ct.Code == sel})
		}
	}
	return out
}

// mayEditSites reports whether p may add and correct sites: the offices
// (in their counties) and admins.
func mayEditSites(p *server.Principal) bool {
	return p.Role == server.RoleCountyOffice || p.Role == server.RoleCityOffice || p.Role == server.RoleAdmin
}

// sites lists the sites in the viewer's counties, searched by name,
// address or id and filtered by kind and county.
func (c *Console) sites(ec echo.Context) error {
	p := principalOf(ec)
	text, err := typedParam(ec, "q")
	if err != nil {
		return err
	}
	q := server.SiteQuery{Scope: p.Scope(), Text: text, Kind: ec.QueryParam("kind"),
		County: ec.QueryParam("county"), Limit: pageSize}
	if q.Kind != "" && !slices.Contains(seeds.SiteKinds, q.Kind) {
		return server.Errorf(syncproto.CodeBadRequest, "未知的点位类型 %q", q.Kind)
	}
	if err := c.checkCounty(p, q.County, "点位"); err != nil {
		return err
	}
	page := pageParam(ec)
	q.Offset = (page - 1) * pageSize
	recs, total, err := c.d.Store.Sites(ec.Request().Context(), q)
	if err != nil {
		return err
	}
	rows := make([]siteRow, 0, len(recs))
	for _, r := range recs {
		rows = append(rows, c.siteRowOf(r))
	}
	filters := nonEmpty(map[string]string{"q": q.Text, "kind": q.Kind, "county": q.County})
	// The site just saved, by its id (the form's notice): named as it is
	// now (a merge with a phone's edit may have renamed it), and only one
	// the viewer may see.
	saved := ""
	if id := takeNotice(ec).Get("saved"); server.IsCanonicalUUID(id) {
		r, err := c.d.Store.Get(ec.Request().Context(), syncproto.EntitySite, id)
		if err != nil {
			return err
		}
		if r != nil && !r.State.IsDeleted() && p.CanSee(r.County) {
			saved = r.Text("name")
		}
	}
	data := map[string]any{"Rows": rows, "Total": total, "Q": q, "Kinds": kindOptions(q.Kind),
		"Counties": c.countyOptions(p, q.County), "MayEdit": mayEditSites(p), "Filtered": len(filters) > 0,
		"Saved": saved}
	pageLinks(data, "/console/sites", filters, "", page, q.Offset+len(recs), total)
	return c.render(ec, http.StatusOK, "sites.html", data)
}

func (c *Console) siteRowOf(r *server.StoredRecord) siteRow {
	row := siteRow{ID: r.ID, Name: r.Text("name"), Kind: siteKindName(r.Text("kind")), County: c.countyName(r.County),
		Address: r.Text("address"), Active: string(r.Value("active")) != "false"}
	if pt, ok := server.SiteLocation(r); ok {
		row.Position = fmt.Sprintf("经度 %.6f，纬度 %.6f", pt.Lon, pt.Lat)
	}
	var radius float64
	if parseJSONNumber(r.Value("radius_m"), &radius) {
		row.Radius = strconv.FormatFloat(radius, 'f', -1, 64) + " 米"
	}
	return row
}

func parseJSONNumber(raw []byte, out *float64) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return false
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return false
	}
	*out = v
	return true
}

// siteFields are a site form's values, as typed. Orig is, in a
// correction's form, the JSON of the values the form was opened with
// (siteFields without ID, County and Orig): saving writes only what the
// office changed from them.
type siteFields struct {
	ID, County, Kind, Name, Address, Lon, Lat, CRS, Radius string
	Active                                                 bool
	Orig                                                   string `json:"-"`
	// NewID is the id a site the form adds takes: made when the form is
	// first shown and sent with it, so that the form sent twice (the Back
	// button, a resent request) adds one site, not two.
	NewID string `json:"-"`
}

// siteFieldsOf is a stored site's form values, Orig set to them.
func siteFieldsOf(r *server.StoredRecord) siteFields {
	f := siteFields{ID: r.ID, County: r.County, Kind: r.Text("kind"), Name: r.Text("name"), Address: r.Text("address"),
		Lon: string(r.Value("lon")), Lat: string(r.Value("lat")), CRS: server.SiteCRS(r), Active: string(r.Value("active")) != "false"}
	var radius float64
	if parseJSONNumber(r.Value("radius_m"), &radius) {
		f.Radius = strconv.FormatFloat(radius, 'f', -1, 64)
	}
	o := f
	o.ID, o.County = "", ""
	b, _ := json.Marshal(o)
	f.Orig = string(b)
	return f
}

// siteParts are the parts of a site an office corrects, each with the
// fields Upsert writes for it and how it is shown in a message.
var siteParts = []struct {
	label  string
	fields []string
	value  func(f siteFields) string
}{
	{"名称", []string{"name"}, func(f siteFields) string { return strings.TrimSpace(f.Name) }},
	{"类型", []string{"kind"}, func(f siteFields) string { return siteKindName(f.Kind) }},
	{"地址", []string{"address"}, func(f siteFields) string { return strings.TrimSpace(f.Address) }},
	{"位置", []string{"lon", "lat", "crs"}, func(f siteFields) string { return f.Lon + ", " + f.Lat + " " + f.CRS }},
	{"范围半径", []string{"radius_m"}, func(f siteFields) string { return f.Radius }},
	{"启用", []string{"active"}, func(f siteFields) string { return map[bool]string{true: "启用", false: "停用"}[f.Active] }},
}

// errSiteChanged is a correction saved over changes made to the same
// parts of the site since its form was opened.
type errSiteChanged struct {
	parts   []string
	current siteFields
}

func (e *errSiteChanged) Error() string { return "site changed since its form was opened" }

// correction keeps of values (a site's form, checked) the parts the office
// changed from the form's original values (f.Orig), so that a change
// someone made meanwhile to another part (a phone renaming the site) is
// not written over. A part both changed, differently, is not settled for
// the office: errSiteChanged, with the site as it is now.
func correction(r *server.StoredRecord, f siteFields, values map[string]any) error {
	cur := siteFieldsOf(r)
	var orig siteFields
	if f.Orig == "" || json.Unmarshal([]byte(f.Orig), &orig) != nil {
		return &errSiteChanged{current: cur}
	}
	// Compared as the form showed them (direction overrides as U+FFFD,
	// in its values and in orig alike): a stored value with one is not
	// "changed meanwhile", and one left as shown is not changed.
	same := func(a, b string) bool { return unbidiText(a) == unbidiText(b) }
	var parts []string
	for _, p := range siteParts {
		if same(p.value(f), p.value(orig)) {
			for _, name := range p.fields {
				delete(values, name)
			}
			continue
		}
		if !same(p.value(cur), p.value(orig)) && !same(p.value(cur), p.value(f)) {
			parts = append(parts, fmt.Sprintf("%s（现为「%s」）", p.label, p.value(cur)))
		}
	}
	if len(parts) > 0 {
		return &errSiteChanged{parts: parts, current: cur}
	}
	return nil
}

var crsOptions = []struct{ Value, Label string }{
	{"wgs84", "WGS-84（GPS 原始坐标）"}, {"gcj02", "GCJ-02（高德、腾讯地图）"}, {"bd09", "BD-09（百度地图）"},
}

// siteForm shows the form adding a site (/sites/new) or correcting one.
func (c *Console) siteForm(ec echo.Context) error {
	p := principalOf(ec)
	if !mayEditSites(p) {
		return server.Errorf(syncproto.CodeForbidden, "只有区县、市级督查人员和管理员可以维护点位")
	}
	f := siteFields{CRS: "wgs84", Active: true, Kind: "construction_site", NewID: uuid.Must(uuid.NewV7()).String()}
	if id := ec.Param("id"); id != "" {
		r, err := c.d.Store.Get(ec.Request().Context(), syncproto.EntitySite, id)
		if err != nil {
			return err
		}
		if r == nil || r.State.IsDeleted() {
			return server.Errorf(syncproto.CodeNotFound, "点位不存在")
		}
		if !p.CanSee(r.County) {
			return server.Errorf(syncproto.CodeOutOfScope, "无权维护其他区县的点位")
		}
		f = siteFieldsOf(r)
	}
	return c.showSiteForm(ec, http.StatusOK, f, "")
}

// showSiteForm shows a site's form; a site's correction lists the
// values the merge did not keep for it too (a phone's and an office's
// edits of one site).
func (c *Console) showSiteForm(ec echo.Context, status int, f siteFields, msg string, field ...string) error {
	p := principalOf(ec)
	data := map[string]any{"F": f, "Kinds": kindOptions(f.Kind),
		"Counties": c.countyOptions(p, f.County), "CRS": crsOptions, "Error": msg}
	if len(field) > 0 {
		data["ErrorField"] = field[0] // the form's field the message is about
	}
	if f.ID != "" {
		var err error
		if data["Conflicts"], err = c.conflictRows(ec.Request().Context(), p, nil, recordRef{syncproto.EntitySite, f.ID}); err != nil {
			return err
		}
	}
	return c.render(ec, status, "site.html", data)
}

// saveSite adds a site or corrects one through the server's own write
// path (Syncer.Upsert), so that the phones pull it.
func (c *Console) saveSite(ec echo.Context) error {
	p := principalOf(ec)
	if !mayEditSites(p) {
		return server.Errorf(syncproto.CodeForbidden, "只有区县、市级督查人员和管理员可以维护点位")
	}
	ctx := ec.Request().Context()
	f := siteFields{ID: ec.Param("id"), County: ec.FormValue("county"), Kind: ec.FormValue("kind"),
		Name: strings.TrimSpace(ec.FormValue("name")), Address: strings.TrimSpace(ec.FormValue("address")),
		Lon: strings.TrimSpace(ec.FormValue("lon")), Lat: strings.TrimSpace(ec.FormValue("lat")), CRS: ec.FormValue("crs"),
		Radius: strings.TrimSpace(ec.FormValue("radius_m")), Active: ec.FormValue("active") == "1", Orig: ec.FormValue("orig"),
		NewID: ec.FormValue("new_id")}
	created := f.ID == ""
	if created && !server.IsCanonicalUUID(f.NewID) {
		f.NewID = uuid.Must(uuid.NewV7()).String() // a form from before new_id
	}
	if !created {
		r, err := c.d.Store.Get(ctx, syncproto.EntitySite, f.ID)
		if err != nil {
			return err
		}
		if r == nil || r.State.IsDeleted() {
			return server.Errorf(syncproto.CodeNotFound, "点位不存在")
		}
		f.County = r.County // a site's county never changes
	}
	if f.County == "" {
		return c.showSiteForm(ec, http.StatusUnprocessableEntity, f, "请选择区县", "county")
	}
	if !p.CanSee(f.County) || c.names[f.County] == "" {
		if ec.Param("id") != "" { // a site named by its id: whose it is is not said
			return server.Errorf(syncproto.CodeOutOfScope, "无权维护其他区县的点位")
		}
		return server.Errorf(syncproto.CodeOutOfScope, "无权维护区县 %s 的点位", c.countyName(f.County))
	}
	values := map[string]any{"kind": f.Kind, "name": f.Name, "address": f.Address, "active": f.Active}
	bad := func(field, msg string) error {
		return c.showSiteForm(ec, http.StatusUnprocessableEntity, f, msg, field)
	}
	switch {
	case f.County == server.CityCounty:
		// The city's own work (市本级) has tasks, not sites: a site is a
		// place in a county.
		return bad("county", "点位须属于一个区县（市本级没有点位）")
	case f.Name == "":
		return bad("name", "请填写点位名称")
	case !slices.Contains(seeds.SiteKinds, f.Kind):
		return bad("kind", "请选择点位类型")
	case !slices.ContainsFunc(crsOptions, func(o struct{ Value, Label string }) bool { return o.Value == f.CRS }):
		return bad("crs", "请选择坐标系")
	}
	if !created && f.Lon == "" && f.Lat == "" {
		values["lon"], values["lat"] = nil, nil // a correction clearing the position
	}
	if !created && f.Radius == "" {
		values["radius_m"] = nil
	}
	if f.Lon != "" || f.Lat != "" {
		lon, err1 := parseDecimal(f.Lon)
		lat, err2 := parseDecimal(f.Lat)
		if badLon, badLat := err1 != nil || lon < seeds.MinLon || lon > seeds.MaxLon, err2 != nil || lat < seeds.MinLat || lat > seeds.MaxLat; badLon || badLat {
			field := "lat"
			if badLon {
				field = "lon"
			}
			return bad(field, fmt.Sprintf("经纬度应为忻州市范围内的十进制度数（经度 %.1f–%.1f，纬度 %.1f–%.1f）", seeds.MinLon, seeds.MaxLon, seeds.MinLat, seeds.MaxLat))
		}
		values["lon"], values["lat"], values["crs"] = lon, lat, f.CRS
	}
	if f.Radius != "" {
		radius, err := parseDecimal(f.Radius)
		if err != nil || radius < 1 || radius > 50000 {
			return bad("radius_m", "范围半径应为 1–50000 米")
		}
		values["radius_m"] = radius
	}
	// A new site takes the id its form was shown with (NewID, not f.ID: a
	// refused one shows again as the form adding it, not as one
	// correcting a site that does not exist).
	id := f.ID
	if created {
		id = f.NewID
		values["county"] = f.County
	}
	err := c.d.Syncer.Store.Update(ctx, func(tx server.WriteTx) error {
		if created {
			if r, err := tx.Get(ctx, server.EntityByName(syncproto.EntitySite), id); err != nil {
				return err
			} else if r != nil && r.County == f.County && !r.State.IsDeleted() && sentBefore(r, values) {
				return errSiteAdded // the form sent again: added once already
			} else if r != nil && r.County == f.County && !r.State.IsDeleted() {
				// The form saved once, sent again with other values (a tab
				// duplicated, a form left open): not added, and not said to
				// be (console probe: 已保存 named the first site).
				return &errSiteFormUsed{site: r.Text("name")}
			} else if r != nil {
				// Not this form's site (another county's, a deleted one):
				// an id no form shows.
				return errSiteIDTaken
			}
		}
		if !created {
			r, err := tx.Get(ctx, server.EntityByName(syncproto.EntitySite), id)
			if err != nil {
				return err
			}
			if r == nil || r.State.IsDeleted() {
				return server.Errorf(syncproto.CodeNotFound, "点位不存在")
			}
			if err := correction(r, f, values); err != nil {
				return err
			}
		}
		return c.d.Syncer.Upsert(ctx, tx, syncproto.EntitySite, id, f.County, values)
	})
	if errors.Is(err, errSiteIDTaken) {
		f.NewID = uuid.Must(uuid.NewV7()).String()
		return c.showSiteForm(ec, http.StatusConflict, f, "此表单的点位编号不可用，已换新编号，请核对后重新保存")
	}
	var used *errSiteFormUsed
	if errors.As(err, &used) {
		f.NewID = uuid.Must(uuid.NewV7()).String()
		return c.showSiteForm(ec, http.StatusConflict, f, "此表单已保存过点位“"+used.site+"”，这次填写的内容没有保存；已换新编号，再次保存将新增一个点位")
	}
	if errors.Is(err, errSiteAdded) {
		return redirectDone(ec, "/console/sites?"+url.Values{"q": {id}}.Encode(), url.Values{"saved": {id}})
	}
	var changed *errSiteChanged
	if errors.As(err, &changed) {
		// Saving the form again writes the office's values over the
		// current ones: it now stands on them.
		f.Orig = changed.current.Orig
		if len(changed.parts) == 0 {
			return c.showSiteForm(ec, http.StatusConflict, changed.current, "表单已过期，已显示此点位的当前内容，请核对后重新保存")
		}
		return c.showSiteForm(ec, http.StatusConflict, f, "您编辑期间，此点位的"+strings.Join(changed.parts, "、")+
			"已被修改（巡查员手机或其他人员）。再次保存将以您填写的内容为准")
	}
	if code := server.ErrorCode(err); err != nil && code != syncproto.CodeInternal {
		return bad(server.ErrorField(err), formMessage(server.ErrorMessage(err), siteFormLabels))
	} else if err != nil {
		return err
	}
	return redirectDone(ec, "/console/sites?"+url.Values{"q": {id}}.Encode(), url.Values{"saved": {id}})
}

// errSiteAdded is a new site's form sent again after it added the site.
var errSiteAdded = errors.New("the site was added by this form already")

// errSiteFormUsed is a new site's form that added a site, sent again with
// other values.
type errSiteFormUsed struct{ site string }

func (e *errSiteFormUsed) Error() string { return "the form added site " + e.site + " already" }

// sentBefore reports whether values (a new site's form, checked) are
// what added r: each field as the form writes it (numbers by value,
// 112.50 as 112.5) — but for one written since it was added (a phone's
// rename), which no longer says what the form sent.
func sentBefore(r *server.StoredRecord, values map[string]any) bool {
	added := r.State.Fields["county"].HLC // written once, with the rest of the form
	for name, v := range values {
		st, ok := r.State.Fields[name]
		if ok && st.HLC != added {
			continue
		}
		var stored any
		if ok && json.Unmarshal(st.Value, &stored) != nil {
			return false
		}
		if !reflect.DeepEqual(stored, v) {
			return false
		}
	}
	return true
}

// errSiteIDTaken is a new site's form whose id is a site it did not add.
var errSiteIDTaken = errors.New("the form's site id is another site's")

// siteFormLabels name the site's fields as its form does.
var siteFormLabels = map[string]string{"name": "名称", "address": "地址", "note": "备注", "kind": "类型", "radius_m": "范围半径"}

// formMessage says a store's message about a field of a record
// (“名称”（name）超过 200 个字符, server.FieldSaid) in the words of the
// form that wrote it (名称超过 200 个字符): labels maps the fields' wire
// names to the form's labels.
func formMessage(msg string, labels map[string]string) string {
	for wire, label := range labels {
		msg = strings.Replace(msg, server.FieldSaid(wire), label, 1)
	}
	return msg
}

// decimalText is a number as people type one: digits, a point, a sign.
var decimalText = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// parseDecimal reads a form's number written as a plain decimal. Go's
// ParseFloat also takes NaN, Inf, hex floats and digit separators
// (0x1.c2p6, 112.7_1), which no one types on purpose and NaN passes every
// range check.
func parseDecimal(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if !decimalText.MatchString(s) {
		return 0, fmt.Errorf("not a decimal: %q", s)
	}
	return strconv.ParseFloat(s, 64)
}
