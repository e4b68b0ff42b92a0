package server

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
)

// VehicleStat sums the roadside vehicle checks of one checkpoint in one
// county made in one special action (Campaign "" for checks outside any).
type VehicleStat struct {
	County, Checkpoint, Campaign string
	Trucks                       int // trucks checked
	G5                           int // 国五 trucks checked (the plan counts them beside 国六)
	G6                           int // 国六 trucks checked
	Removed                      int // 国六 trucks with after-treatment removed
	// GasG6 and GasRemoved are the 国六 gas trucks among G6 and Removed:
	// the plan's own target (国六重型燃气车 whose three-way catalyst was
	// removed), which the rate over every 国六 truck mixes with diesels.
	GasG6, GasRemoved int
}

// Add adds o's counts to v's.
func (v *VehicleStat) Add(o VehicleStat) {
	v.Trucks, v.G5, v.G6, v.Removed = v.Trucks+o.Trucks, v.G5+o.G5, v.G6+o.G6, v.Removed+o.Removed
	v.GasG6, v.GasRemoved = v.GasG6+o.GasG6, v.GasRemoved+o.GasRemoved
}

// SumVehicleStats adds up stats by the key each has, keeping the keys in
// the order they first appear. Every stat is counted under its key, ""
// included (checks outside any special action, by Campaign), so the sums
// add up to the total.
func SumVehicleStats(stats []VehicleStat, key func(VehicleStat) string) (keys []string, sums map[string]VehicleStat) {
	sums = map[string]VehicleStat{}
	for _, v := range stats {
		k := key(v)
		sum, seen := sums[k]
		if !seen {
			keys = append(keys, k)
		}
		sum.Add(v)
		sums[k] = sum
	}
	return keys, sums
}

// LabelSpaces are the spaces around a free-text label (a checkpoint, a
// special action) that its statistics ignore: Unicode's space separators
// (the ASCII space, the ideographic space of Chinese input methods, the
// no-break space, the six-per-em space of a pinyin keyboard, …). Control
// characters never reach a label (NoControls, OneLine); labels written
// since they have a canonical spelling (CanonicalLabel) have none of
// these around them.
const LabelSpaces = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"

// LabelKey is the form of a label the statistics group, show and filter
// by, and what an office types to filter by a label: its canonical
// spelling (CanonicalLabel) without its spaces, so that "五台山检查站",
// "五台山检查站 " and "g5", "Ｇ5", "G5" are one checkpoint each, and so
// are "G108 K5" and "G108K5" (the stored spelling keeps the space a crew
// typed between two letters or digits: a road's number and its
// kilometre, which another crew runs together). The SQL stores group
// stored labels by the same key (sqlstore.Dialect.Label), which is
// theirs for every label written since labels have a canonical spelling.
func LabelKey(s string) string { return strings.ReplaceAll(CanonicalLabel(s), " ", "") }

// VehicleQuery selects roadside vehicle checks for the console's list.
type VehicleQuery struct {
	Scope Scope
	// County filters by equality, Checkpoint and Campaign by LabelKey,
	// Plate by its canonical spelling (CanonicalPlate); "" is any.
	County, Checkpoint, Campaign, Plate string
	// Plates, when not empty, keeps the checks of any of these plates in
	// their canonical spelling (a page's trucks, asked at once).
	Plates []string
	// Partial matches Checkpoint and Plate, in those spellings, as a part
	// of the checkpoint, or of the plate or the VIN (what an office
	// types: "G108", "H2022", "KD120")
	// rather than all of it (a link from a figure, which must list just
	// the checks it counts).
	Partial bool
	// NoCheckpoint keeps only checks with no checkpoint written.
	NoCheckpoint bool
	// NoCampaign keeps only checks made outside any special action.
	NoCampaign bool
	// G6 keeps only 国六 trucks: the checks a removal rate counts.
	G6 bool
	// Removed keeps only 国六 trucks whose after-treatment was removed.
	Removed bool
	// Action keeps the checks that ended so (a syncproto.VehicleActions
	// code: fine, repair, release); "" is any.
	Action string
	// Voided selects by an office's voiding: the checks that count (the
	// zero value: what every statistic counts), only the voided ones,
	// or both.
	Voided VoidedFilter
	// After and Before bound checked_at as stored text (RFC 3339 at
	// +08:00, so a date such as 2026-11-01 bounds by the date in China):
	// After <= checked_at < Before; "" is unbounded.
	After, Before string
	// ReceivedAfter, when not zero, keeps the checks the server received
	// after it.
	ReceivedAfter time.Time
	// ChangedAfter, when not zero, keeps the checks the server received
	// by it and changed after it (by their phones or an office).
	ChangedAfter time.Time
	// Limit and Offset page the list (newest check first).
	Limit, Offset int
}

// VoidedFilter is how a VehicleQuery takes voided checks.
type VoidedFilter int

const (
	// NotVoided keeps the checks that count, as statistics do.
	NotVoided VoidedFilter = iota
	// OnlyVoided keeps the voided checks.
	OnlyVoided
	// AnyVoided keeps both (a truck's history).
	AnyVoided
)

// FindingQuery selects findings for the offices' list of them: those the
// offices see (live, of a live inspection under review or reviewed, as
// the overview's overdue count and the reports count them).
type FindingQuery struct {
	Scope Scope
	// County filters by equality; "" is any.
	County string
	// Status keeps one status ("" any); Open keeps those still to be
	// rectified (OpenFindingStatuses).
	Status string
	Open   bool
	// Verifiable keeps only the findings of approved inspections, whose
	// rectification an office may verify now (a returned inspection's
	// rectified findings wait for its approval).
	Verifiable bool
	// Unapproved keeps only the findings of inspections not approved
	// (under review, or returned): with Status rectified, those reported
	// rectified that no one may verify yet.
	Unapproved bool
	// OverdueOn, a date (YYYY-MM-DD), keeps the findings past their
	// deadline on that day and still to be rectified.
	OverdueOn string
	// From and To bound the date of the finding's inspection's visit
	// (YYYY-MM-DD, inclusive, as InspectionQuery's: the month the finding
	// was found in); "" is open.
	From, To string
	// Limit and Offset page the list (the earliest deadline first, those
	// without one last).
	Limit, Offset int
}

// Tally counts the inspections of one checklist in one county that have
// one review status.
type Tally struct {
	County, TemplateID, Status string
	N                          int
}

// RoadsideTemplate is the roadside heavy-truck checklist. A rectification
// task that names it also counts the roadside vehicle checks of its
// counties as evidence: they are the per-truck records of those checks.
const RoadsideTemplate = "roadside_truck"

// Evidence is what the field has produced for a rectification task.
type Evidence struct {
	Submitted, Returned, Approved int // the task's inspections by review status
	VehicleChecks                 int // roadside checks (tasks naming RoadsideTemplate)
}

// Inspections is the number of the task's inspections under review or reviewed.
func (e Evidence) Inspections() int { return e.Submitted + e.Returned + e.Approved }

// TaskTemplates returns the checklists whose inspections are a task's
// evidence.
func TaskTemplates(r *StoredRecord) []string {
	var ts []string
	_ = json.Unmarshal(r.Value("templates"), &ts)
	return ts
}

// TaskEvidence sums the tallies and vehicle statistics that belong to a
// task: inspections of its checklists, and roadside checks if it names the
// roadside checklist, in its counties (in any county when it names none).
// The caller passes only what the viewer may see.
func TaskEvidence(task *StoredRecord, tallies []Tally, vehicles []VehicleStat) Evidence {
	counties := TaskCounties(task)
	return evidence(task, func(county string) bool { return len(counties) == 0 || slices.Contains(counties, county) }, tallies, vehicles)
}

// CountyEvidence is TaskEvidence within one of the task's progress
// counties (ProgressCounties): that county's inspections and checks, or,
// for the city's row of a task naming no county, every county's.
func CountyEvidence(task *StoredRecord, county string, tallies []Tally, vehicles []VehicleStat) Evidence {
	if county == CityCounty {
		return TaskEvidence(task, tallies, vehicles)
	}
	return evidence(task, func(c string) bool { return c == county }, tallies, vehicles)
}

func evidence(task *StoredRecord, inTask func(county string) bool, tallies []Tally, vehicles []VehicleStat) Evidence {
	templates := TaskTemplates(task)
	var e Evidence
	for _, t := range tallies {
		if !slices.Contains(templates, t.TemplateID) || !inTask(t.County) {
			continue
		}
		switch t.Status {
		case "submitted":
			e.Submitted += t.N
		case "returned":
			e.Returned += t.N
		case "approved":
			e.Approved += t.N
		}
	}
	if slices.Contains(templates, RoadsideTemplate) {
		for _, v := range vehicles {
			if inTask(v.County) {
				e.VehicleChecks += v.Trucks
			}
		}
	}
	return e
}

// Rate is the share of 国六 trucks with after-treatment removed, in
// percent rounded to one decimal (0 when no 国六 truck was checked).
func (v VehicleStat) Rate() float64 {
	if v.G6 == 0 {
		return 0
	}
	return RoundPct(float64(v.Removed) * 100 / float64(v.G6))
}

// RoundPct rounds a percentage to one decimal, halves away from zero
// (30.25 is 30.3): the one rounding of every percentage the offices see,
// the roadside rates as the ledger's means.
func RoundPct(pct float64) float64 { return math.Round(pct*10) / 10 }

// TaskCounties returns the counties a rectification task names (none: the
// task is the city's own, see CityCounty).
func TaskCounties(r *StoredRecord) []string {
	var cs []string
	_ = json.Unmarshal(r.Value("counties"), &cs)
	return cs
}

// MonthReport is one county's monthly report (信息报送) of field work: the
// inspections started in the month, their findings and photos. The state
// of its rectification tasks is CountyTasksOf its own progress rows.
type MonthReport struct {
	County                        string
	Submitted, Returned, Approved int
	ByTemplate                    map[string]int // template id → inspections
	// ByVersion splits ByTemplate by the checklist's version: template
	// id → version → inspections.
	ByVersion             map[string]map[int]int
	Findings              int
	Photos, FlaggedPhotos int
}

// Inspections is the number of inspections in the report.
func (r MonthReport) Inspections() int { return r.Submitted + r.Returned + r.Approved }

// MonthTally counts one county's inspections of one checklist version
// with one status started in a month, with their findings and photos
// (OfficeStore.MonthTallies).
type MonthTally struct {
	County, TemplateID, Status    string
	Version                       int
	Inspections, Findings, Photos int
	FlaggedPhotos                 int
}

// ItemTally counts one county's inspections of one checklist with one
// status, started in a month, whose answer fails item Item: the item is
// in their failed_items (OfficeStore.MonthItemFailures).
type ItemTally struct {
	County, TemplateID, Status, Item string
	Inspections                      int
}

// Reviewable reports whether an inspection with this status counts in the
// office's figures: it was submitted, whatever the review made of it since
// (drafts do not count).
func Reviewable(status string) bool {
	return slices.Contains(ReviewStatuses, status)
}

// MonthlyReport builds the monthly report of each county given, in that
// order, from the month's tallies: only reviewable inspections count.
func MonthlyReport(counties []string, tallies []MonthTally) []MonthReport {
	out := make([]MonthReport, len(counties))
	at := make(map[string]int, len(counties))
	for i, c := range counties {
		out[i] = MonthReport{County: c, ByTemplate: map[string]int{}, ByVersion: map[string]map[int]int{}}
		at[c] = i
	}
	for _, t := range tallies {
		i, ok := at[t.County]
		if !ok || !Reviewable(t.Status) {
			continue
		}
		r := &out[i]
		r.ByTemplate[t.TemplateID] += t.Inspections
		if r.ByVersion[t.TemplateID] == nil {
			r.ByVersion[t.TemplateID] = map[int]int{}
		}
		r.ByVersion[t.TemplateID][t.Version] += t.Inspections
		switch t.Status {
		case "submitted":
			r.Submitted += t.Inspections
		case "returned":
			r.Returned += t.Inspections
		case "approved":
			r.Approved += t.Inspections
		}
		r.Findings += t.Findings
		r.Photos += t.Photos
		r.FlaggedPhotos += t.FlaggedPhotos
	}
	return out
}

// LoadMonthlyReport reads month's tallies of the counties given and builds
// their reports (MonthlyReport).
func LoadMonthlyReport(ctx context.Context, st OfficeStore, month string, counties []string) ([]MonthReport, error) {
	tallies, err := st.MonthTallies(ctx, month, counties)
	if err != nil {
		return nil, err
	}
	return MonthlyReport(counties, tallies), nil
}
