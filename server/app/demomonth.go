package app

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The demo's month of field work (--demo): every demo inspector's phone
// visits sites of its county on most of the 30 days before the day the demo
// was first made, fills the checklists of every template, records findings
// with deadlines and takes photos — real JPEGs with EXIF, a few of them
// planted frauds — and the offices approve or return what was submitted.
// This file plans it; demowrite.go writes it through the server's own
// paths (Syncer.Push as the phones, StoreUpload for the bytes,
// Syncer.Review for the offices), and demophotos.go makes the photos.
//
// The plan is a pure function of the seed data and the demo's day: a fixed
// random seed, and ids that are UUIDv5 of names that do not depend on the
// day, so the same plan comes out at every start and a second start adds
// nothing (demowrite.go says how a start finds the day again).

// demoDays is how many days before its day the demo's month spans, unless
// Config.DemoDays says otherwise.
const demoDays = 30

// demoSeed fixes the demo's random choices.
const demoSeed = 20221201

// demoNS is the namespace of the ids of the records the month makes.
var demoNS = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/xinzhou-eco/fieldsync/demo/month"))

// demoID returns the fixed id of the demo record named by kind and parts.
func demoID(kind string, parts ...any) string {
	name := kind
	for _, p := range parts {
		name += "/" + fmt.Sprint(p)
	}
	return uuid.NewSHA1(demoNS, []byte(name)).String()
}

// demoMonth is the planned month.
type demoMonth struct {
	set *seeds.Set
	// day0 is midnight (China time) of the demo's day; the month is the
	// days days before it, so every time in it is in the past.
	day0     time.Time
	days     int
	devices  []*demoDevice
	visits   []*demoVisit // in time order per device, days in order
	newSites []*demoSite  // sites a phone creates during the month
}

// demoDevice is a demo inspector's phone.
type demoDevice struct {
	user                  seeds.DemoUser
	id, name              string
	make, model, firmware string // what its camera writes in EXIF
	crs                   string // the system its location SDK reports
	sites                 []*demoSite
	last                  syncproto.HLC // its clock, while the plan's mutations are made
}

// hlc stamps a change the phone made at t: its HLC never goes backwards.
func (d *demoDevice) hlc(t time.Time) string {
	w := t.UnixMilli()
	if w > d.last.Wall {
		d.last = syncproto.HLC{Wall: w, Node: d.id}
	} else {
		d.last.Counter++
	}
	return d.last.String()
}

// demoPhones are the demo inspectors' phones, in the order of the users.
var demoPhones = []struct{ name, make, model, firmware, crs string }{
	{"华为 Mate 40 Pro", "HUAWEI", "NOH-AN00", "NOH-AN00 4.0.0.150(C00E150R5P6)", geo.GCJ02},
	{"小米 13", "Xiaomi", "2211133C", "MIUI Camera", geo.GCJ02},
	{"OPPO Find X6", "OPPO", "PGFM10", "", geo.WGS84},
	{"vivo X90", "vivo", "V2241A", "", geo.GCJ02},
	{"iPhone 13", "Apple", "iPhone 13", "17.1.2", geo.WGS84},
	{"荣耀 80", "HONOR", "ANN-AN00", "", geo.GCJ02},
	{"Redmi K60", "Xiaomi", "23013RK75C", "MIUI Camera", geo.WGS84},
	{"华为 Mate 60", "HUAWEI", "ALN-AL00", "ALN-AL00 4.0.0.120(C00E110R2P7)", geo.GCJ02},
}

// demoSite is a site as the plan uses it.
type demoSite struct {
	id, county, kind, name string
	at                     geo.Point // where it is, WGS-84
	radius                 float64
	checklists             []string                   // seeds.Site.Checklists
	facts                  map[string]json.RawMessage // seeds.Site.Facts
	// For a site a phone creates: the day offset it is created on, and
	// what the phone sends (a point picked on a GCJ-02 map).
	createdDay int
	sent       geo.Point
	crs        string
	by         *demoDevice
}

// demoVisit is one inspection.
type demoVisit struct {
	id         string
	day        int // days before day0
	dev        *demoDevice
	site       *demoSite
	tmpl       *seeds.Template
	start, end time.Time
	submitted  bool // else a draft
	incomplete bool // submitted with required items unanswered
	answers    map[string]any
	summary    string
	findings   []*demoFinding
	photos     []*demoPhoto
	vehicle    map[string]any // roadside: the per-truck record
	vehicleID  string
	review     string // "", server.DecisionApprove or server.DecisionReturn
	comment    string
}

// demoFinding is a finding of a failed item.
type demoFinding struct {
	id, item, description, severity, deadline, status, note string
	at                                                      time.Time
}

// planDemoMonth plans the days days ending at day0 for the demo inspectors
// of demo, at its sites, with the templates of set.
func planDemoMonth(set *seeds.Set, demo *seeds.Demo, day0 time.Time, days int) *demoMonth {
	m := &demoMonth{set: set, day0: day0, days: days}
	rng := rand.New(rand.NewPCG(demoSeed, 0x5eed))
	for _, u := range demo.Users {
		if u.Role != seeds.RoleInspector {
			continue
		}
		ph := demoPhones[len(m.devices)%len(demoPhones)]
		d := &demoDevice{user: u, id: demoID("device", u.Username), name: ph.name + "（" + u.DisplayName + "）",
			make: ph.make, model: ph.model, firmware: ph.firmware, crs: ph.crs}
		for _, st := range demo.Sites {
			if slices.Contains(u.Counties, st.County) {
				d.sites = append(d.sites, &demoSite{id: st.ID, county: st.County, kind: st.Kind, name: st.Name,
					at: geo.Point{Lon: st.Lon, Lat: st.Lat}, radius: st.RadiusM, checklists: st.Checklists, facts: st.Facts})
			}
		}
		m.devices = append(m.devices, d)
	}
	m.addPhoneSite()
	for day := days; day >= 1; day-- {
		for i, d := range m.devices {
			n := []int{0, 1, 1, 1, 1, 2, 2, 2, 2, 3}[rng.IntN(10)]
			if day == days && i == 0 || m.madeSite(d, day) != nil {
				// The month's first visit dates it (demowrite.go); a
				// site made the day before is inspected.
				n = max(n, 1)
			}
			at := m.date(day).Add(8*time.Hour + 20*time.Minute + time.Duration(rng.IntN(80))*time.Minute)
			for k := range n {
				v := m.planVisit(rng, d, day, k, at)
				m.visits = append(m.visits, v)
				at = v.end.Add(time.Duration(30+rng.IntN(90)) * time.Minute)
			}
		}
	}
	m.planPhotos(rng)
	m.planReviews(rng)
	return m
}

// date returns midnight (China time) day days before day0.
func (m *demoMonth) date(day int) time.Time { return m.day0.AddDate(0, 0, -day) }

// addPhoneSite has the first inspector create a construction site during
// the month (a third of the way in), placed on an Amap map: sent in
// GCJ-02, stored with its crs.
func (m *demoMonth) addPhoneSite() {
	if len(m.devices) == 0 {
		return
	}
	d := m.devices[0]
	at := geo.Point{Lon: 112.7280, Lat: 38.4480}
	s := &demoSite{id: demoID("site", "云中河南岸安置房三期"), county: d.user.Counties[0], kind: "construction_site",
		name: "云中河南岸安置房三期工地（巡查员新增）", at: at, radius: 150, createdDay: max(1, m.days*2/3),
		sent: geo.WGS84ToGCJ02(at), crs: geo.GCJ02, by: d}
	m.newSites = append(m.newSites, s)
}

// madeSite returns the site d created the day before day, or nil: the
// inspector made it on arriving there, and its first visit of day is
// there (so that even a short demo month has a visit of a site a phone
// made).
func (m *demoMonth) madeSite(d *demoDevice, day int) *demoSite {
	for _, s := range m.newSites {
		if s.by == d && day == s.createdDay-1 {
			return s
		}
	}
	return nil
}

// sitesOn returns the sites d can visit on day: its county's, and those
// created by then.
func (m *demoMonth) sitesOn(d *demoDevice, day int) []*demoSite {
	out := slices.Clone(d.sites)
	for _, s := range m.newSites {
		if slices.Contains(d.user.Counties, s.county) && day < s.createdDay {
			out = append(out, s)
		}
	}
	return out
}

// demoFactoryTemplates are the checklists used at factories, by weight.
var demoFactoryTemplates = []string{"staggered_production", "staggered_production", "staggered_production", "coal_yard", "coal_boiler"}

// planVisit plans the k-th visit of d on day, starting at start.
func (m *demoMonth) planVisit(rng *rand.Rand, d *demoDevice, day, k int, start time.Time) *demoVisit {
	sites := m.sitesOn(d, day)
	site := sites[rng.IntN(len(sites))]
	if s := m.madeSite(d, day); s != nil && k == 0 {
		site = s
	}
	v := &demoVisit{id: demoID("inspection", d.user.Username, day, k), day: day, dev: d, site: site, start: start,
		end: start.Add(time.Duration(35+rng.IntN(50)) * time.Minute)}
	v.tmpl = m.templateFor(rng, site)
	v.submitted = rng.IntN(100) >= 6 && !(day == 1 && k > 0) // yesterday's later visits wait as drafts
	v.incomplete = v.submitted && rng.IntN(100) < 8
	planAnswers(rng, v)
	return v
}

// demoTemplates maps a site kind to the checklist used there (factories:
// demoFactoryTemplates), where the site names none of its own.
var demoTemplates = map[string]string{
	"construction_site": "construction_dust", "coal_yard": "coal_yard", "coal_ban_village": "loose_coal",
	"coal_boiler": "coal_boiler", "sewage_plant": "sewage_overflow", "checkpoint": "roadside_truck",
	"mine": "mine_restoration", "road": "road_dust",
}

// templateFor picks the checklist of a visit to site: one of the site's
// own (a pellet plant's, a heat pump user's), or its kind's.
func (m *demoMonth) templateFor(rng *rand.Rand, site *demoSite) *seeds.Template {
	id := demoTemplates[site.kind]
	switch {
	case len(site.checklists) > 0:
		id = site.checklists[rng.IntN(len(site.checklists))]
	case site.kind == "factory":
		id = demoFactoryTemplates[rng.IntN(len(demoFactoryTemplates))]
	}
	return m.set.LatestTemplate(id)
}

// planReviews decides the offices' decisions: most visits submitted
// before the last two days are approved, some returned with a comment —
// most of those with planted frauds or missing answers, which reviewers
// catch — and the rest still wait in the queue.
func (m *demoMonth) planReviews(rng *rand.Rand) {
	for _, v := range m.visits {
		if !v.submitted || v.day < 3 {
			continue
		}
		fraud := ""
		for _, p := range v.photos {
			if p.fraud != "" && p.fraud != demoPending && p.fraud != demoNoGPS {
				fraud = p.fraud
			}
		}
		r := rng.IntN(100)
		switch {
		case fraud != "" && r < 60:
			v.review, v.comment = server.DecisionReturn, demoFraudComments[fraud]
		case fraud != "":
		case v.incomplete && r < 75:
			v.review, v.comment = server.DecisionReturn, "必填项未填写完整，请补充后重新提交。"
		case v.incomplete:
		case r < 76:
			v.review = server.DecisionApprove
			if r%4 == 0 {
				v.comment = "材料齐全，同意。"
			}
		case r < 86:
			v.review, v.comment = server.DecisionReturn, demoReturnComments[r%len(demoReturnComments)]
		}
	}
}

// demoReturnComments are the reasons offices return honest inspections.
var demoReturnComments = []string{
	"问题照片不够清晰，请补拍近景。",
	"整改时限填写有误，请核实后重新提交。",
	"请补充问题描述，写明具体位置和数量。",
	"请补拍整改后的照片。",
}

// demoFraudComments are what a reviewer writes on catching a planted fraud.
var demoFraudComments = map[string]string{
	demoFar:    "照片拍摄位置与点位相距数公里，请到现场重新拍摄。",
	demoEdited: "照片经过修图软件处理，请提供相机原图。",
	demoReused: "照片与其他点位的检查照片相同，请重新拍摄本点位照片。",
	demoNear:   "照片与其他点位的照片几乎相同，请说明情况并补拍。",
	demoStale:  "照片拍摄时间与检查时间不符，请补拍当日照片。",
	demoMock:   "定位精度为 0，疑似使用虚拟定位，请关闭相关软件后重新拍摄。",
}
