// Package seeds embeds and validates fieldsync's structured seed data: the
// county-level units of Xinzhou, the inspection checklist templates, the
// rectification task list of the city's plan, and the demo data loaded by
// the server's --demo flag.
//
// The data lives in JSON files beside this source file; Load and LoadDemo
// decode them strictly (unknown fields are errors) and validate them, so a
// typo in a seed file fails at start-up and in tests rather than in the
// field.
package seeds

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

//go:embed counties.json tasks.json demo.json templates/*.json
var files embed.FS

// FS returns the embedded seed files (counties.json, tasks.json, demo.json
// and templates/*.json), for callers that want the raw JSON.
func FS() fs.FS { return files }

// County is a county-level unit (县级区划) of Xinzhou, or one of the two
// special units the plan names as responsible units.
type County struct {
	// Code is the six-digit administrative code, e.g. "140902". The
	// special units use codes of fieldsync's own scheme (see Note).
	Code string `json:"code"`
	// Name is the Chinese name, e.g. "忻府区".
	Name string `json:"name"`
	// Kind is one of "district", "county", "city" or "special".
	Kind string `json:"kind"`
	// Lon and Lat locate the seat of government, WGS-84 degrees.
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
	// Confirmed is false when the code or the coordinates are not verified.
	Confirmed bool `json:"confirmed"`
	// Note explains what is unconfirmed or special, in Chinese.
	Note string `json:"note"`
}

// Template is a versioned inspection checklist.
type Template struct {
	// ID names the template, e.g. "construction_dust"; ID and Version
	// together identify one immutable checklist.
	ID      string `json:"id"`
	Version int    `json:"version"`
	// Kind is the inspection kind the template serves.
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Source cites the plan section and standards the checklist is based on.
	Source string `json:"source"`
	// SiteKinds lists the site kinds the template applies to.
	SiteKinds []string `json:"site_kinds"`
	// Items are the questions, in display order.
	Items []Item `json:"items"`
}

// Item is one question of a checklist template: the wire format of
// checklist_template.items, published as
// mobile-api-docs/checklist.schema.json.
type Item = syncproto.ChecklistItem

// Option is one allowed answer of a choice item.
type Option = syncproto.ChecklistOption

// Item types.
const (
	ItemTypeCheck   = syncproto.ItemCheck   // 合格 / 不合格 / 不适用
	ItemTypeNumber  = syncproto.ItemNumber  // a number in Unit, within Min..Max
	ItemTypeText    = syncproto.ItemText    // free text
	ItemTypeChoice  = syncproto.ItemChoice  // one of Options
	ItemTypeBoolean = syncproto.ItemBoolean // 是 / 否
)

// Task is one numbered item of the plan's rectification task list
// (整改措施清单).
type Task struct {
	// ID is "task-01", "task-02", ... in the order of the list.
	ID string `json:"id"`
	// Number is the plan's numbering: section and sub-item, e.g. "4.2".
	Number string `json:"number"`
	// Category is the heading of the section the item sits under.
	Category string `json:"category"`
	// Problem is the problem found (abridged but faithful).
	Problem string `json:"problem"`
	// Measures are the rectification measures (整改措施), one per line.
	Measures          string   `json:"measures"`
	ResponsibleUnits  []string `json:"responsible_units"`
	ResponsiblePerson string   `json:"responsible_person"`
	// AcceptanceUnit is the same office for every task; the plan spells
	// it differently in 1.1 and 1.2 (README.md, "tasks.json against the
	// plan's own text").
	AcceptanceUnit string `json:"acceptance_unit"`
	// DeadlineText is the deadline as the plan states it.
	DeadlineText string `json:"deadline_text"`
	// Deadline is the ISO date (YYYY-MM-DD) the stated period ends, or nil
	// for tasks that are immediate and ongoing (立行立改、长期坚持).
	Deadline *string `json:"deadline"`
	// LongTerm is true for ongoing tasks without a deadline.
	LongTerm bool `json:"long_term"`
	// Counties are the codes of the county-level units named in
	// ResponsibleUnits or as carrying out one of the Measures (5.3's
	// third measure falls on 忻府区, whose own plant overflows, though
	// the plan's list of units omits it): for 各县（市、区）, every county,
	// district and county-level city (not the two special zones, which
	// the plan names on their own when it means them). Each reports its
	// own progress. Empty: the task falls on no county but on the city
	// itself (市本级).
	Counties []string `json:"counties"`
	// Templates are the ids of the checklists whose inspections are this
	// task's evidence: those with items that check what the task orders
	// (5.4's heat pumps are checked at their users, geothermal_heat_pump,
	// and their discharges at the sewage plants too, the sewage checklist's
	// no_geothermal_discharge); none for tasks no field check can show
	// (1.1, the study of the plan's thinking).
	Templates []string `json:"templates"`
}

// Demo is the demo data loaded by --demo.
type Demo struct {
	Users         []DemoUser        `json:"users"`
	Sites         []Site            `json:"sites"`
	VehicleChecks []json.RawMessage `json:"vehicle_checks"`
}

// DemoUser is a demo account. Passwords are plain text here and must be
// hashed by whoever creates the account.
type DemoUser struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	// Role is one of the Role* constants.
	Role string `json:"role"`
	// Counties is the user's scope.
	Counties []string `json:"counties"`
}

// User roles.
const (
	RoleInspector    = "inspector"
	RoleCountyOffice = "county_office"
	RoleCityOffice   = "city_office"
	RoleAdmin        = "admin"
)

// Site is a place that gets inspected. The demo sites are fictional.
type Site struct {
	// ID is a fixed UUID.
	ID     string `json:"id"`
	County string `json:"county"`
	// Kind is one of SiteKinds.
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Address string `json:"address"`
	// Lon and Lat are WGS-84 degrees.
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
	// RadiusM is the geofence radius in metres.
	RadiusM float64 `json:"radius_m"`
	// Checklists are the checklists (template ids) the demo's month of
	// visits uses at the site, where they are not the one its kind is
	// usually inspected with: a factory that is a pellet plant, a heat
	// pump's user. Each must serve the site's kind. Demo data only: a
	// site record has no such field.
	Checklists []string `json:"checklists,omitempty"`
	// Facts are answers the demo's visits give at the site, by item key:
	// what the place is (a road's class, a project's industry), which a
	// visit does not find anew each time, or null for an item they leave
	// unanswered (a penalty's number where none was imposed). Each is an
	// item of a checklist for the site, and a fact never fails its item.
	// Demo data only.
	Facts map[string]json.RawMessage `json:"facts,omitempty"`
}

// SiteKinds are the valid site kinds (the codes of syncproto.SiteKinds).
var SiteKinds = syncproto.Codes(syncproto.SiteKinds)

// EveryCounty begins a responsible unit that stands for every county,
// district and county-level city (各县（市、区）党委、政府).
const EveryCounty = "各县（市、区）"

// CountyKinds are the valid county kinds.
var CountyKinds = []string{"district", "county", "city", "special"}

// Roles are the valid user roles.
var Roles = []string{RoleInspector, RoleCountyOffice, RoleCityOffice, RoleAdmin}

// ItemTypes are the valid item types.
var ItemTypes = syncproto.ItemTypes

// Bounds of Xinzhou used to sanity-check coordinates (a generous box).
const (
	MinLon = 110.9
	MaxLon = 114.0
	MinLat = 38.0
	MaxLat = 39.8
)

// Set is the reference data every device and office gets.
type Set struct {
	Counties  []County
	Templates []Template
	Tasks     []Task
}

// Load decodes and validates the embedded counties, templates and tasks.
// Templates are sorted by ID, then Version.
func Load() (*Set, error) {
	s := &Set{}
	if err := decodeFile("counties.json", &s.Counties); err != nil {
		return nil, err
	}
	if err := decodeFile("tasks.json", &s.Tasks); err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, "templates/*.json")
	if err != nil {
		return nil, fmt.Errorf("seeds: %w", err)
	}
	for _, name := range names {
		var t Template
		if err := decodeFile(name, &t); err != nil {
			return nil, err
		}
		if want := fmt.Sprintf("%s@%d.json", t.ID, t.Version); path.Base(name) != want {
			return nil, fmt.Errorf("seeds: %s: template %s version %d is not in a file named %s", name, t.ID, t.Version, want)
		}
		s.Templates = append(s.Templates, t)
	}
	sortTemplates(s.Templates)
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadDemo decodes the embedded demo data and validates it against the
// counties of Load.
func LoadDemo() (*Demo, error) {
	s, err := Load()
	if err != nil {
		return nil, err
	}
	d := &Demo{}
	if err := decodeFile("demo.json", d); err != nil {
		return nil, err
	}
	if err := d.Validate(s); err != nil {
		return nil, err
	}
	return d, nil
}

// County returns the county with the given code, or nil.
func (s *Set) County(code string) *County {
	for i := range s.Counties {
		if s.Counties[i].Code == code {
			return &s.Counties[i]
		}
	}
	return nil
}

// Template returns the template with the given id and version, or nil.
func (s *Set) Template(id string, version int) *Template {
	for i := range s.Templates {
		if s.Templates[i].ID == id && s.Templates[i].Version == version {
			return &s.Templates[i]
		}
	}
	return nil
}

// ItemIndex returns the index in t.Items of the item with the given key,
// or -1 if t has none.
func (t *Template) ItemIndex(key string) int {
	return slices.IndexFunc(t.Items, func(it Item) bool { return it.Key == key })
}

// LatestTemplates returns the highest version of each template, in id
// order: the checklists offered for new inspections, one per id.
func (s *Set) LatestTemplates() []Template {
	var out []Template
	for i, t := range s.Templates {
		if i+1 == len(s.Templates) || s.Templates[i+1].ID != t.ID {
			out = append(out, t)
		}
	}
	return out
}

// ItemsEver returns the items of every version of the template with the
// given id: the newest version's, in its order, then those only older
// versions have (newest first), each key once. An answer or a failed
// item of any version is labelled and ordered by it.
func (s *Set) ItemsEver(id string) []Item {
	var out []Item
	seen := map[string]bool{}
	for i := len(s.Templates) - 1; i >= 0; i-- {
		if s.Templates[i].ID != id {
			continue
		}
		for _, it := range s.Templates[i].Items {
			if !seen[it.Key] {
				seen[it.Key] = true
				out = append(out, it)
			}
		}
	}
	return out
}

// LatestTemplate returns the highest version of the template with the
// given id, or nil.
func (s *Set) LatestTemplate(id string) *Template {
	var best *Template
	for i := range s.Templates {
		t := &s.Templates[i]
		if t.ID == id && (best == nil || t.Version > best.Version) {
			best = t
		}
	}
	return best
}

var (
	reCountyCode = regexp.MustCompile(`^[0-9]{6}$`)
	reSnake      = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	reUUID       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	reDate       = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// Validate checks the set's internal consistency and returns all problems
// found, joined.
func (s *Set) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("seeds: "+format, args...))
	}

	codes := map[string]bool{}
	countyNames := map[string]bool{}
	if len(s.Counties) == 0 {
		bad("no counties")
	}
	for i, c := range s.Counties {
		if !reCountyCode.MatchString(c.Code) {
			bad("county %d: code %q is not 6 digits", i, c.Code)
		}
		if codes[c.Code] {
			bad("county %d: duplicate code %q", i, c.Code)
		}
		codes[c.Code] = true
		if c.Name == "" {
			bad("county %s: empty name", c.Code)
		} else if countyNames[c.Name] {
			bad("county %s: duplicate name %q", c.Code, c.Name)
		}
		countyNames[c.Name] = true
		if !contains(CountyKinds, c.Kind) {
			bad("county %s: invalid kind %q", c.Code, c.Kind)
		}
		if !inBounds(c.Lon, c.Lat) {
			bad("county %s: coordinates %v,%v outside Xinzhou", c.Code, c.Lon, c.Lat)
		}
	}

	type tv struct {
		id string
		v  int
	}
	seen := map[tv]bool{}
	for i, t := range s.Templates {
		where := fmt.Sprintf("template %d (%s v%d)", i, t.ID, t.Version)
		if !reSnake.MatchString(t.ID) {
			bad("%s: id %q is not snake_case", where, t.ID)
		}
		if t.Version < 1 {
			bad("%s: version must be ≥ 1", where)
		}
		if seen[tv{t.ID, t.Version}] {
			bad("%s: duplicate id and version", where)
		}
		seen[tv{t.ID, t.Version}] = true
		if t.Kind == "" || t.Title == "" || t.Source == "" {
			bad("%s: kind, title and source are required", where)
		}
		if len(t.SiteKinds) == 0 {
			bad("%s: no site_kinds", where)
		}
		for _, k := range t.SiteKinds {
			if !contains(SiteKinds, k) {
				bad("%s: invalid site kind %q", where, k)
			}
		}
		if len(t.Items) == 0 {
			bad("%s: no items", where)
		}
		keys := map[string]bool{}
		for j, it := range t.Items {
			iw := fmt.Sprintf("%s item %d (%s)", where, j, it.Key)
			if !reSnake.MatchString(it.Key) {
				bad("%s: key %q is not snake_case", iw, it.Key)
			}
			if keys[it.Key] {
				bad("%s: duplicate item key %q", iw, it.Key)
			}
			keys[it.Key] = true
			if it.Label == "" {
				bad("%s: empty label", iw)
			}
			if !contains(ItemTypes, it.Type) {
				bad("%s: invalid item type %q", iw, it.Type)
			}
			if it.Type == ItemTypeChoice {
				if len(it.Options) == 0 {
					bad("%s: choice item has no options", iw)
				}
				vals := map[string]bool{}
				for _, o := range it.Options {
					if o.Value == "" || o.Label == "" {
						bad("%s: option with empty value or label", iw)
					}
					if vals[o.Value] {
						bad("%s: duplicate option value %q", iw, o.Value)
					}
					vals[o.Value] = true
				}
			} else if len(it.Options) > 0 {
				bad("%s: options on a %s item", iw, it.Type)
			}
			if it.Type == ItemTypeNumber {
				if it.Unit == "" {
					bad("%s: number item has no unit", iw)
				}
				if it.Min != nil && it.Max != nil && *it.Min > *it.Max {
					bad("%s: min %v > max %v", iw, *it.Min, *it.Max)
				}
				if l := it.FailsAbove; l != nil && (it.Min != nil && *l < *it.Min || it.Max != nil && *l >= *it.Max) {
					bad("%s: fails_above %v outside min..max (a value must be able to pass and to fail)", iw, *l)
				}
				if it.FailsAbove != nil && it.Verdict == "" {
					bad("%s: fails_above without a verdict: a number raises no finding, the check item that judges it does", iw)
				}
			} else if it.Unit != "" || it.Min != nil || it.Max != nil || it.FailsAbove != nil {
				bad("%s: unit/min/max/fails_above on a %s item", iw, it.Type)
			}
			fails := 0
			for _, o := range it.Options {
				if o.Fails {
					fails++
				}
			}
			switch {
			case it.Type == ItemTypeChoice && fails == len(it.Options) && fails > 0:
				bad("%s: every option fails", iw)
			case it.FindingOnFail && it.Type == ItemTypeChoice && fails == 0:
				bad("%s: finding_on_fail on a choice item with no option that fails", iw)
			case it.FindingOnFail && it.Type != ItemTypeCheck && it.Type != ItemTypeBoolean && it.Type != ItemTypeChoice:
				bad("%s: finding_on_fail on a %s item (only check, boolean and choice items can fail)", iw, it.Type)
			}
			if it.DeadlineDays < 0 {
				bad("%s: negative deadline_days", iw)
			}
			if it.DeadlineDays > 0 && !it.FindingOnFail {
				bad("%s: deadline_days without finding_on_fail", iw)
			}
			if it.Verdict != "" {
				canFail := it.Type == ItemTypeCheck || it.Type == ItemTypeChoice && fails > 0 || it.Type == ItemTypeNumber && it.FailsAbove != nil
				v := t.ItemIndex(it.Verdict)
				switch {
				case !canFail:
					bad("%s: verdict on an item that cannot fail (a check, a choice with an option that fails, a number with fails_above)", iw)
				case it.FindingOnFail:
					bad("%s: verdict and finding_on_fail both: the verdict's finding is the one raised", iw)
				case v < 0 || v == j:
					bad("%s: verdict %q is not another item of the checklist", iw, it.Verdict)
				case t.Items[v].Type != ItemTypeCheck || !t.Items[v].FindingOnFail || !t.Items[v].Required:
					bad("%s: verdict %q is not a required check item with finding_on_fail", iw, it.Verdict)
				}
			}
		}
	}
	for i := 1; i < len(s.Templates); i++ {
		if templateLess(s.Templates[i], s.Templates[i-1]) {
			bad("templates not sorted by id and version at %d", i)
			break
		}
	}

	ids := map[string]bool{}
	numbers := map[string]bool{}
	for i, t := range s.Tasks {
		where := fmt.Sprintf("task %d (%s)", i, t.ID)
		if t.ID == "" {
			bad("%s: empty id", where)
		}
		if ids[t.ID] {
			bad("%s: duplicate id", where)
		}
		ids[t.ID] = true
		if t.Number == "" {
			bad("%s: empty number", where)
		} else if numbers[t.Number] {
			bad("%s: duplicate number %q", where, t.Number)
		}
		numbers[t.Number] = true
		if t.Category == "" || t.Problem == "" || t.Measures == "" || t.DeadlineText == "" {
			bad("%s: category, problem, measures and deadline_text are required", where)
		}
		if len(t.ResponsibleUnits) == 0 {
			bad("%s: no responsible units", where)
		}
		for _, id := range t.Templates {
			if !slices.ContainsFunc(s.Templates, func(tp Template) bool { return tp.ID == id }) {
				bad("%s: unknown template %q", where, id)
			}
		}
		if t.Deadline != nil {
			if _, err := parseDate(*t.Deadline); err != nil {
				bad("%s: deadline %q is not a YYYY-MM-DD date", where, *t.Deadline)
			}
		}
		if t.LongTerm != (t.Deadline == nil) {
			bad("%s: long_term must be true exactly when deadline is null", where)
		}
		for _, c := range t.Counties {
			if !codes[c] {
				bad("%s: unknown county %q", where, c)
			}
		}
		if slices.ContainsFunc(t.ResponsibleUnits, func(u string) bool { return strings.HasPrefix(u, EveryCounty) }) {
			for _, c := range s.Counties {
				if c.Kind != "special" && !slices.Contains(t.Counties, c.Code) {
					bad("%s: names %s but not county %s", where, EveryCounty, c.Code)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Validate checks the demo data against the reference set.
func (d *Demo) Validate(s *Set) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("seeds: demo: "+format, args...))
	}
	codes := map[string]bool{}
	for _, c := range s.Counties {
		codes[c.Code] = true
	}
	users := map[string]bool{}
	for i, u := range d.Users {
		where := fmt.Sprintf("user %d (%s)", i, u.Username)
		if u.Username == "" || u.Password == "" || u.DisplayName == "" {
			bad("%s: username, password and display_name are required", where)
		}
		if users[u.Username] {
			bad("%s: duplicate username", where)
		}
		users[u.Username] = true
		if !contains(Roles, u.Role) {
			bad("%s: invalid role %q", where, u.Role)
		}
		if len(u.Counties) == 0 {
			bad("%s: no counties", where)
		}
		for _, c := range u.Counties {
			if !codes[c] {
				bad("%s: unknown county %q", where, c)
			}
		}
	}
	ids := map[string]bool{}
	for i, st := range d.Sites {
		where := fmt.Sprintf("site %d (%s)", i, st.Name)
		if !reUUID.MatchString(st.ID) {
			bad("%s: id %q is not a UUID", where, st.ID)
		}
		if ids[st.ID] {
			bad("%s: duplicate id %q", where, st.ID)
		}
		ids[st.ID] = true
		if !codes[st.County] {
			bad("%s: unknown county %q", where, st.County)
		}
		if !contains(SiteKinds, st.Kind) {
			bad("%s: invalid kind %q", where, st.Kind)
		}
		if st.Name == "" {
			bad("%s: empty name", where)
		}
		if !inBounds(st.Lon, st.Lat) {
			bad("%s: coordinates %v,%v outside Xinzhou", where, st.Lon, st.Lat)
		}
		if !(st.RadiusM > 0) {
			bad("%s: radius_m must be > 0", where)
		}
		for _, id := range st.Checklists {
			if tp := s.LatestTemplate(id); tp == nil || !contains(tp.SiteKinds, st.Kind) {
				bad("%s: checklist %q is not one for a %s", where, id, st.Kind)
			}
		}
		for _, key := range slices.Sorted(maps.Keys(st.Facts)) {
			if msg := s.checkFact(st, key, st.Facts[key]); msg != "" {
				bad("%s: fact %s: %s", where, key, msg)
			}
		}
	}
	for i, raw := range d.VehicleChecks {
		if !json.Valid(raw) || len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '{' {
			bad("vehicle check %d: not a JSON object", i)
		}
	}
	return errors.Join(errs...)
}

func decodeFile(name string, v any) error {
	b, err := files.ReadFile(name)
	if err != nil {
		return fmt.Errorf("seeds: %w", err)
	}
	if err := decodeStrict(b, v); err != nil {
		return fmt.Errorf("seeds: %s: %w", name, err)
	}
	return nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	if !reDate.MatchString(s) {
		return time.Time{}, errors.New("not YYYY-MM-DD")
	}
	return time.Parse(time.DateOnly, s)
}

func sortTemplates(ts []Template) {
	sort.SliceStable(ts, func(i, j int) bool { return templateLess(ts[i], ts[j]) })
}

func templateLess(a, b Template) bool {
	if a.ID != b.ID {
		return a.ID < b.ID
	}
	return a.Version < b.Version
}

func inBounds(lon, lat float64) bool { return InBounds(lon, lat) }

// InBounds reports whether a WGS-84 position is within Xinzhou's bounds
// (MinLon … MaxLat).
func InBounds(lon, lat float64) bool {
	return lon >= MinLon && lon <= MaxLon && lat >= MinLat && lat <= MaxLat
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkFact checks a demo site's fact (Site.Facts): an item of a checklist
// the site is visited with (its Checklists, or any for its kind) that
// takes the answer and is not failed by it; null always fits. "" means
// it is good.
func (s *Set) checkFact(st Site, key string, raw json.RawMessage) string {
	for _, tp := range s.LatestTemplates() {
		if !contains(tp.SiteKinds, st.Kind) || len(st.Checklists) > 0 && !contains(st.Checklists, tp.ID) {
			continue
		}
		i := tp.ItemIndex(key)
		if i < 0 {
			continue
		}
		if string(bytes.TrimSpace(raw)) == "null" {
			return ""
		}
		a, err := syncproto.ParseAnswer(&tp.Items[i], raw)
		switch {
		case err != nil:
			return err.Error()
		case a.Failed(&tp.Items[i]):
			return "fails its item"
		}
		return ""
	}
	return "no item of a checklist for the site"
}
