package seeds

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func mustLoad(t *testing.T) *Set {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func mustLoadDemo(t *testing.T) *Demo {
	t.Helper()
	d, err := LoadDemo()
	if err != nil {
		t.Fatalf("LoadDemo: %v", err)
	}
	return d
}

func TestLoad(t *testing.T) {
	s := mustLoad(t)
	if len(s.Counties) != 16 {
		t.Errorf("got %d counties, want 16", len(s.Counties))
	}
	if len(s.Tasks) == 0 {
		t.Error("no tasks")
	}
	for _, tc := range []struct {
		code, name, kind string
		confirmed        bool
	}{
		{"140902", "忻府区", "district", true},
		{"140931", "保德县", "county", false},
		{"140981", "原平市", "city", true},
		{"140971", "五台山风景名胜区", "special", false},
		{"140972", "忻州经济开发区", "special", false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			c := s.County(tc.code)
			if c == nil {
				t.Fatalf("county %s missing", tc.code)
			}
			if c.Name != tc.name || c.Kind != tc.kind || c.Confirmed != tc.confirmed {
				t.Errorf("county %s = %+v, want name %s kind %s confirmed %v", tc.code, *c, tc.name, tc.kind, tc.confirmed)
			}
			if !c.Confirmed && c.Note == "" {
				t.Errorf("unconfirmed county %s has no note", tc.code)
			}
		})
	}
}

// TestTemplates: the build carries every version of each checklist ever
// released, 1 to the latest with none missing (an inspection names the
// version it was made on, and a fresh database needs it too), sorted by
// id and version.
func TestTemplates(t *testing.T) {
	s := mustLoad(t)
	ids := []string{"coal_boiler", "coal_yard", "construction_dust", "geothermal_heat_pump", "loose_coal", "mine_restoration", "pellet_plant",
		"road_dust", "roadside_truck", "sewage_overflow", "staggered_production", "unapproved_project"}
	var got []string
	for i, tp := range s.Templates {
		if i > 0 && s.Templates[i-1].ID == tp.ID {
			if prev := s.Templates[i-1].Version; tp.Version != prev+1 {
				t.Errorf("%s: version %d follows version %d", tp.ID, tp.Version, prev)
			}
			continue
		}
		got = append(got, tp.ID)
		if tp.Version != 1 {
			t.Errorf("%s: the first version is %d", tp.ID, tp.Version)
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("templates %v, want %v in this order", got, ids)
	}
	latest := s.LatestTemplates()
	if len(latest) != len(ids) {
		t.Errorf("LatestTemplates: %d, want %d", len(latest), len(ids))
	}
	for i, id := range ids {
		one := s.LatestTemplate(id)
		if one == nil || len(one.Items) < 5 {
			t.Fatalf("LatestTemplate(%s) = %v", id, one)
		}
		if i < len(latest) && (latest[i].ID != id || latest[i].Version != one.Version) {
			t.Errorf("LatestTemplates()[%d] = %s@%d, want %s@%d", i, latest[i].ID, latest[i].Version, id, one.Version)
		}
	}
}

func TestConstructionDustSixItems(t *testing.T) {
	s := mustLoad(t)
	tpl := s.Template("construction_dust", 1)
	if tpl == nil {
		t.Fatal("construction_dust missing")
	}
	// 六个百分百, in order, as the first six items.
	want := []struct{ key, label string }{
		{"fence", "工地围挡100%设置"},
		{"material_cover", "物料堆放100%苫盖"},
		{"road_paving", "施工道路100%硬化"},
		{"wet_operation", "施工现场100%湿法作业"},
		{"vehicle_washing", "出入车辆100%冲洗"},
		{"muck_enclosed", "渣土运输100%密闭"},
	}
	if len(tpl.Items) < len(want) {
		t.Fatalf("only %d items", len(tpl.Items))
	}
	for i, w := range want {
		it := tpl.Items[i]
		if it.Key != w.key || it.Label != w.label {
			t.Errorf("item %d = %s %q, want %s %q", i, it.Key, it.Label, w.key, w.label)
		}
		if it.Type != ItemTypeCheck || !it.Required || !it.PhotoRequired || !it.FindingOnFail || it.DeadlineDays <= 0 {
			t.Errorf("item %s: want a required check with photo and a finding deadline, got %+v", it.Key, it)
		}
	}
}

// everyCounty are the 14 county-level units of 各县（市、区）.
var everyCounty = []string{"140902", "140921", "140922", "140923", "140924", "140925", "140926", "140927", "140928", "140929", "140930", "140931", "140932", "140981"}

func TestTasks(t *testing.T) {
	s := mustLoad(t)
	byNumber := map[string]Task{}
	for _, task := range s.Tasks {
		byNumber[task.Number] = task
	}
	for _, tc := range []struct {
		number   string
		deadline string // "" for long-term
		counties []string
	}{
		{"1.1", "", append(everyCounty, "140971", "140972")},
		{"1.2", "2023-12-31", []string{"140922", "140923", "140924", "140981"}},
		{"3", "2022-07-31", []string{"140902", "140923", "140924", "140929"}},
		{"4.1", "2022-10-01", []string{"140902", "140922", "140923"}},
		{"4.3", "2023-12-31", everyCounty},
		{"4.4", "", append(everyCounty, "140971", "140972")},
		{"5.4", "2022-10-31", []string{"140902"}},
		{"4.6", "2022-09-30", []string{"140928", "140929", "140930", "140932"}},
		{"5.3", "2022-05-31", []string{"140924", "140902"}}, // 繁峙县, and 忻府区 of the third measure
	} {
		t.Run(tc.number, func(t *testing.T) {
			task, ok := byNumber[tc.number]
			if !ok {
				t.Fatalf("task %s missing", tc.number)
			}
			if tc.deadline == "" {
				if task.Deadline != nil || !task.LongTerm {
					t.Errorf("want long-term with null deadline, got %v %v", task.Deadline, task.LongTerm)
				}
			} else if task.Deadline == nil || *task.Deadline != tc.deadline {
				t.Errorf("deadline = %v, want %s", task.Deadline, tc.deadline)
			}
			got := map[string]bool{}
			for _, c := range task.Counties {
				got[c] = true
			}
			if len(got) != len(tc.counties) {
				t.Errorf("counties = %v, want %v", task.Counties, tc.counties)
			}
			for _, c := range tc.counties {
				if !got[c] {
					t.Errorf("counties = %v, missing %s", task.Counties, c)
				}
			}
		})
	}
}

// TestTaskCountiesNamed: a county the plan names in a task's units or
// measures reports on that task — none is left without a ledger row for
// work the plan gives it.
func TestTaskCountiesNamed(t *testing.T) {
	s := mustLoad(t)
	for _, task := range s.Tasks {
		text := strings.Join(task.ResponsibleUnits, "、") + task.Measures
		for _, c := range s.Counties {
			if strings.Contains(text, c.Name) && !slices.Contains(task.Counties, c.Code) {
				t.Errorf("task %s names %s (%s) but does not list it", task.Number, c.Name, c.Code)
			}
		}
	}
}

// TestTaskEvidence: a checklist with an item for what a task orders is
// among the task's evidence.
func TestTaskEvidence(t *testing.T) {
	s := mustLoad(t)
	for _, tc := range []struct{ number, template string }{
		{"1.2", "pellet_plant"}, {"2", "mine_restoration"}, {"3", "unapproved_project"},
		{"4.1", "staggered_production"}, {"4.2", "coal_yard"}, {"4.3", "loose_coal"}, {"4.4", "construction_dust"},
		{"4.5", "roadside_truck"}, {"4.5", "road_dust"}, {"4.6", "coal_boiler"},
		{"5.1", "sewage_overflow"}, {"5.3", "sewage_overflow"}, {"5.4", "geothermal_heat_pump"}, {"5.4", "sewage_overflow"},
	} {
		for _, task := range s.Tasks {
			if task.Number == tc.number && !slices.Contains(task.Templates, tc.template) {
				t.Errorf("task %s: templates %v lack %s", tc.number, task.Templates, tc.template)
			}
		}
	}
	// Every checklist is some task's evidence, and every kind of site has
	// a checklist: an inspector can inspect whatever site the county lists,
	// and the inspection counts for the task it serves.
	for _, tp := range s.LatestTemplates() {
		if !slices.ContainsFunc(s.Tasks, func(task Task) bool { return slices.Contains(task.Templates, tp.ID) }) {
			t.Errorf("checklist %s is no task's evidence", tp.ID)
		}
	}
	for _, kind := range SiteKinds {
		if !slices.ContainsFunc(s.LatestTemplates(), func(tp Template) bool { return slices.Contains(tp.SiteKinds, kind) }) {
			t.Errorf("no checklist serves sites of kind %s", kind)
		}
	}
}

// TestAcceptanceUnit: every task names the acceptance unit as the plan
// spells it in all but two places (README.md says where the plan differs).
func TestAcceptanceUnit(t *testing.T) {
	const want = "市委、市政府督查室、市省生态环境保护督察整改工作领导小组办公室"
	for _, task := range mustLoad(t).Tasks {
		if task.AcceptanceUnit != want {
			t.Errorf("task %s: acceptance unit %q, want %q", task.Number, task.AcceptanceUnit, want)
		}
	}
}

func TestDemo(t *testing.T) {
	s := mustLoad(t)
	d := mustLoadDemo(t)
	perCounty := map[string]int{}
	for _, st := range d.Sites {
		perCounty[st.County]++
		c := s.County(st.County)
		if km := distanceKm(c.Lon, c.Lat, st.Lon, st.Lat); km > 15 {
			t.Errorf("site %s is %.1f km from the seat of %s", st.Name, km, c.Name)
		}
		if st.RadiusM < 100 || st.RadiusM > 500 {
			t.Errorf("site %s radius %v outside 100–500 m", st.Name, st.RadiusM)
		}
	}
	for _, c := range s.Counties {
		if perCounty[c.Code] < 3 {
			t.Errorf("county %s %s has %d demo sites, want ≥ 3", c.Code, c.Name, perCounty[c.Code])
		}
	}
	users := map[string]DemoUser{}
	for _, u := range d.Users {
		users[u.Username] = u
	}
	for _, tc := range []struct {
		username, password, role string
		counties                 int
	}{
		{"inspector", "inspector123", RoleInspector, 1},
		{"inspector2", "inspector123", RoleInspector, 1},
		{"ningwu", "inspector123", RoleInspector, 1},
		{"daixian", "inspector123", RoleInspector, 1},
		{"yuanping", "inspector123", RoleInspector, 1},
		{"kelan", "inspector123", RoleInspector, 1},
		{"baode", "inspector123", RoleInspector, 1},
		{"dingxiang", "inspector123", RoleInspector, 1},
		{"county", "county123", RoleCountyOffice, 1},
		{"dingxiang_office", "county123", RoleCountyOffice, 1},
		{"city", "city1234", RoleCityOffice, 16},
		{"admin", "admin123", RoleAdmin, 16},
	} {
		u, ok := users[tc.username]
		if !ok {
			t.Errorf("user %s missing", tc.username)
			continue
		}
		if u.Password != tc.password || u.Role != tc.role || len(u.Counties) != tc.counties {
			t.Errorf("user %s = %+v", tc.username, u)
		}
	}
	if users["ningwu"].Counties[0] != "140925" {
		t.Errorf("ningwu scope = %v, want 140925", users["ningwu"].Counties)
	}
}

// TestReadmeListsDemoAccounts: the README's table of demo accounts is the
// one demo.json makes (serve --demo prints it from demo.json).
func TestReadmeListsDemoAccounts(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range mustLoadDemo(t).Users {
		row := fmt.Sprintf("| `%s` | `%s` | %s |", u.Username, u.Password, u.Role)
		if !strings.Contains(string(b), row) {
			t.Errorf("README.md lacks the demo account row %q", row)
		}
	}
}

func distanceKm(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlon := (lon2 - lon1) * rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// cloneSet deep-copies enough of a set for tests to corrupt it safely.
func cloneSet(s *Set) *Set {
	c := &Set{
		Counties:  append([]County(nil), s.Counties...),
		Templates: make([]Template, len(s.Templates)),
		Tasks:     append([]Task(nil), s.Tasks...),
	}
	for i, t := range s.Templates {
		t.Items = append([]Item(nil), t.Items...)
		t.SiteKinds = append([]string(nil), t.SiteKinds...)
		c.Templates[i] = t
	}
	return c
}

func ptr[T any](v T) *T { return &v }

func TestValidateRejects(t *testing.T) {
	base := mustLoad(t)
	for _, tc := range []struct {
		name    string
		corrupt func(s *Set)
		want    string
	}{
		{"duplicate county code", func(s *Set) {
			c := s.Counties[0]
			c.Name = "重复县"
			s.Counties = append(s.Counties, c)
		}, `duplicate code "140902"`},
		{"county code not 6 digits", func(s *Set) { s.Counties[1].Code = "14092" }, "not 6 digits"},
		{"county outside Xinzhou", func(s *Set) { s.Counties[0].Lon = 116.4 }, "outside Xinzhou"},
		{"bad item type", func(s *Set) { s.Templates[0].Items[0].Type = "photo" }, `invalid item type "photo"`},
		{"duplicate item key", func(s *Set) {
			s.Templates[0].Items[1].Key = s.Templates[0].Items[0].Key
		}, "duplicate item key"},
		{"item key not snake_case", func(s *Set) { s.Templates[0].Items[0].Key = "BoilerNo" }, "not snake_case"},
		{"choice without options", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_choice", Label: "选择", Type: ItemTypeChoice}
		}, "no options"},
		{"finding_on_fail on a choice no option of which fails", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_choice", Label: "选择", Type: ItemTypeChoice, FindingOnFail: true, DeadlineDays: 3,
				Options: []Option{{Value: "a", Label: "甲"}, {Value: "b", Label: "乙"}}}
		}, "no option that fails"},
		{"every option fails", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_choice", Label: "选择", Type: ItemTypeChoice,
				Options: []Option{{Value: "a", Label: "甲", Fails: true}, {Value: "b", Label: "乙", Fails: true}}}
		}, "every option fails"},
		{"verdict on an item that cannot fail", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_verdict", Label: "结论", Type: ItemTypeCheck, Required: true, FindingOnFail: true}
			s.Templates[0].Items[1] = Item{Key: "x_text", Label: "说明", Type: ItemTypeText, Verdict: "x_verdict"}
		}, "verdict on an item that cannot fail"},
		{"verdict on a number without a limit", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_verdict", Label: "结论", Type: ItemTypeCheck, Required: true, FindingOnFail: true}
			s.Templates[0].Items[1] = Item{Key: "x_number", Label: "浓度", Type: ItemTypeNumber, Unit: "mg/m³", Verdict: "x_verdict"}
		}, "verdict on an item that cannot fail"},
		{"fails_above without a verdict", func(s *Set) {
			s.Templates[0].Items[1] = Item{Key: "x_number", Label: "浓度", Type: ItemTypeNumber, Unit: "mg/m³", FailsAbove: ptr(10.0)}
		}, "fails_above without a verdict"},
		{"fails_above at the max", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_verdict", Label: "结论", Type: ItemTypeCheck, Required: true, FindingOnFail: true}
			s.Templates[0].Items[1] = Item{Key: "x_number", Label: "浓度", Type: ItemTypeNumber, Unit: "mg/m³", Max: ptr(10.0), FailsAbove: ptr(10.0), Verdict: "x_verdict"}
		}, "fails_above 10 outside min..max"},
		{"fails_above below the min", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_verdict", Label: "结论", Type: ItemTypeCheck, Required: true, FindingOnFail: true}
			s.Templates[0].Items[1] = Item{Key: "x_number", Label: "浓度", Type: ItemTypeNumber, Unit: "mg/m³", Min: ptr(0.0), FailsAbove: ptr(-1.0), Verdict: "x_verdict"}
		}, "fails_above -1 outside min..max"},
		{"fails_above on a check", func(s *Set) {
			s.Templates[0].Items[1] = Item{Key: "x_check", Label: "检查", Type: ItemTypeCheck, FailsAbove: ptr(1.0)}
		}, "unit/min/max/fails_above on a check item"},
		{"verdict and finding_on_fail", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_verdict", Label: "结论", Type: ItemTypeCheck, Required: true, FindingOnFail: true}
			s.Templates[0].Items[1] = Item{Key: "x_check", Label: "检查", Type: ItemTypeCheck, FindingOnFail: true, Verdict: "x_verdict"}
		}, "verdict and finding_on_fail both"},
		{"verdict not in the checklist", func(s *Set) {
			s.Templates[0].Items[1] = Item{Key: "x_check", Label: "检查", Type: ItemTypeCheck, Verdict: "no_such_item"}
		}, `verdict "no_such_item" is not another item`},
		{"verdict on itself", func(s *Set) {
			s.Templates[0].Items[1] = Item{Key: "x_check", Label: "检查", Type: ItemTypeCheck, Verdict: "x_check"}
		}, `verdict "x_check" is not another item`},
		{"verdict not a check with finding_on_fail", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_verdict", Label: "结论", Type: ItemTypeCheck, Required: true}
			s.Templates[0].Items[1] = Item{Key: "x_check", Label: "检查", Type: ItemTypeCheck, Verdict: "x_verdict"}
		}, `verdict "x_verdict" is not a required check item with finding_on_fail`},
		{"verdict optional", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_verdict", Label: "结论", Type: ItemTypeCheck, FindingOnFail: true}
			s.Templates[0].Items[1] = Item{Key: "x_check", Label: "检查", Type: ItemTypeCheck, Verdict: "x_verdict"}
		}, `verdict "x_verdict" is not a required check item with finding_on_fail`},
		{"finding_on_fail on a number", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_num", Label: "数量", Type: ItemTypeNumber, Unit: "t", FindingOnFail: true}
		}, "finding_on_fail on a number item"},
		{"number without unit", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_num", Label: "数量", Type: ItemTypeNumber, Min: ptr(5.0), Max: ptr(1.0)}
		}, "no unit"},
		{"number min above max", func(s *Set) {
			s.Templates[0].Items[0] = Item{Key: "x_num", Label: "数量", Type: ItemTypeNumber, Unit: "t", Min: ptr(5.0), Max: ptr(1.0)}
		}, "min 5 > max 1"},
		{"bad site kind", func(s *Set) { s.Templates[0].SiteKinds = []string{"quarry"} }, `invalid site kind "quarry"`},
		{"duplicate template version", func(s *Set) {
			s.Templates = append(s.Templates, s.Templates[0])
		}, "duplicate id and version"},
		{"bad deadline", func(s *Set) { s.Tasks[1].Deadline = ptr("2023-12-32") }, "not a YYYY-MM-DD date"},
		{"deadline in Chinese", func(s *Set) { s.Tasks[1].Deadline = ptr("2023年12月底") }, "not a YYYY-MM-DD date"},
		{"deadline on long-term task", func(s *Set) { s.Tasks[0].Deadline = ptr("2023-12-31") }, "long_term must be true exactly"},
		{"duplicate task id", func(s *Set) { s.Tasks[1].ID = s.Tasks[0].ID }, "duplicate id"},
		{"task with unknown county", func(s *Set) { s.Tasks[1].Counties = []string{"110101"} }, `unknown county "110101"`},
		{"every county but one", func(s *Set) { s.Tasks[0].Counties = s.Tasks[0].Counties[1:] }, "names 各县（市、区） but not county 140902"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := cloneSet(base)
			if err := s.Validate(); err != nil {
				t.Fatalf("clean clone does not validate: %v", err)
			}
			tc.corrupt(s)
			err := s.Validate()
			if err == nil {
				t.Fatalf("Validate accepted a set with %s", tc.name)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestDemoValidateRejects(t *testing.T) {
	s := mustLoad(t)
	base := mustLoadDemo(t)
	for _, tc := range []struct {
		name    string
		corrupt func(d *Demo)
		want    string
	}{
		{"bad role", func(d *Demo) { d.Users[0].Role = "boss" }, `invalid role "boss"`},
		{"unknown user county", func(d *Demo) { d.Users[0].Counties = []string{"140999"} }, `unknown county "140999"`},
		{"duplicate username", func(d *Demo) { d.Users[1].Username = d.Users[0].Username }, "duplicate username"},
		{"site id not a UUID", func(d *Demo) { d.Sites[0].ID = "site-1" }, "is not a UUID"},
		{"site id UUID without dashes", func(d *Demo) { d.Sites[0].ID = strings.ReplaceAll(d.Sites[0].ID, "-", "") }, "is not a UUID"},
		{"duplicate site id", func(d *Demo) { d.Sites[1].ID = d.Sites[0].ID }, "duplicate id"},
		{"site outside Xinzhou", func(d *Demo) { d.Sites[0].Lat = 40.1 }, "outside Xinzhou"},
		{"zero radius", func(d *Demo) { d.Sites[0].RadiusM = 0 }, "radius_m must be > 0"},
		{"bad site kind", func(d *Demo) { d.Sites[0].Kind = "quarry" }, `invalid kind "quarry"`},
		{"unknown checklist", func(d *Demo) { d.Sites[0].Checklists = []string{"quarry"} }, `checklist "quarry" is not one for a construction_site`},
		{"checklist of another kind", func(d *Demo) { d.Sites[0].Checklists = []string{"road_dust"} }, `checklist "road_dust" is not one for a construction_site`},
		{"fact of no checklist for the site", func(d *Demo) {
			d.Sites[0].Facts = map[string]json.RawMessage{"road_class": []byte(`{"value":"national"}`)}
		},
			"fact road_class: no item of a checklist"},
		{"fact that fails", func(d *Demo) { d.Sites[0].Facts = map[string]json.RawMessage{"fence": []byte(`{"result":"fail"}`)} }, "fact fence: fails its item"},
		{"fact its item does not take", func(d *Demo) {
			d.Sites[0].Facts = map[string]json.RawMessage{"pm10_reading": []byte(`{"value":"高"}`)}
		}, "fact pm10_reading: "},
		{"vehicle check not an object", func(d *Demo) { d.VehicleChecks = append(d.VehicleChecks, []byte(`[1]`)) }, "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Demo{
				Users:         append([]DemoUser(nil), base.Users...),
				Sites:         append([]Site(nil), base.Sites...),
				VehicleChecks: append(base.VehicleChecks[:0:0], base.VehicleChecks...),
			}
			tc.corrupt(d)
			err := d.Validate(s)
			if err == nil {
				t.Fatalf("Validate accepted demo data with %s", tc.name)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"known fields", `{"code":"140902","name":"忻府区"}`, true},
		{"unknown field", `{"code":"140902","nmae":"忻府区"}`, false},
		{"trailing data", `{"code":"140902"} {}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c County
			err := decodeStrict([]byte(tc.in), &c)
			if (err == nil) != tc.ok {
				t.Errorf("decodeStrict(%s) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

// TestItemsEver: a checklist's items over all its versions are the newest
// version's, in order, then the keys only older versions had.
func TestItemsEver(t *testing.T) {
	s := mustLoad(t)
	var keys []string
	for _, it := range s.ItemsEver("roadside_truck") {
		keys = append(keys, it.Key)
	}
	latest := s.LatestTemplate("roadside_truck")
	if len(keys) != len(latest.Items)+3 || keys[0] != latest.Items[0].Key {
		t.Fatalf("roadside_truck's items ever: %v", keys)
	}
	if got := keys[len(latest.Items):]; !slices.Equal(got, []string{"twc_present", "scr_present", "dpf_present"}) {
		t.Errorf("the keys only version 1 has: %v", got)
	}
	if got := s.ItemsEver("no_such"); len(got) != 0 {
		t.Errorf("an unknown checklist's items: %v", got)
	}
}
