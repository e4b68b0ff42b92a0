package server

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// FieldType is how a field's value is checked and stored.
type FieldType int

// Field types. Every value may also be JSON null, which clears the field.
const (
	TypeText FieldType = iota // JSON string
	TypeInt                   // JSON integer
	TypeReal                  // JSON number
	TypeBool                  // JSON boolean
	TypeTime                  // RFC 3339 string; from a device, a moment past (Syncer.checkTimes)
	TypeDate                  // YYYY-MM-DD string
	TypeRef                   // UUID string naming a record of Field.Ref
	TypeJSON                  // any JSON object or array
)

// Field describes one field of a synced entity.
type Field struct {
	Name string
	Type FieldType
	// Enum, if set, lists the values anyone may store; DeviceEnum, if set,
	// the subset a device may write (the rest are the server's), and a
	// device may not write null to it.
	Enum, DeviceEnum []string
	// Labels gives each Enum code the Chinese label people read: the
	// console, the reports, the API documentation and the command-line
	// device all show these (Field.Label).
	Labels map[string]string
	// Aliases are values still accepted for a code (the Chinese labels
	// phones sent before the field had codes): Canonical stores the code
	// instead, so nothing a phone sends is refused for its spelling.
	// Deprecated; new clients send codes.
	Aliases map[string]string
	// aliasJSON holds each alias's code as canonical JSON, so that a
	// legacy value costs a map lookup, not an encoding, on every push.
	aliasJSON map[string]json.RawMessage
	// Deprecated, if set, says why the field is no longer written; its
	// stored values stay readable.
	Deprecated string
	Min, Max   float64 // bounds for numbers, when Min < Max
	// Unit, for a number, is the unit its values are in, as people read
	// it beside them (%, 级, m⁻¹); Doc says in English what the value
	// measures, for the API documentation.
	Unit, Doc string
	MaxLen    int  // for text; 0 means 2000 characters
	Server    bool // written only by the server or an office
	Immutable bool // set when the record is created, never changed by a device (an office may correct it)
	// OwnDevice fields are written by the device that created the record
	// only (a photo's capture facts, its file's type and size): another
	// device's change is refused (immutable_field).
	OwnDevice bool
	Required  bool // must be given when a device creates the record
	// Format, if set, is the form every value of a text field has.
	Format *TextFormat
	// Map fields hold a set of keyed values, each merged on its own: the
	// wire names them "Name.key" (e.g. "answers.fence").
	Map bool
	Ref string // entity a TypeRef field points to
	// Within, for a TypeRef field, names a reference field that the record
	// and the record referred to share: when the record has both, the one
	// referred to has the same value there (a photo's finding is one of
	// the photo's inspection).
	Within string
	// AsSent, for a TypeTime field, keeps the text as the device sent it
	// (a value the device signs: signed-captures.md). Other times are
	// stored in their canonical form, CanonicalTime.
	AsSent bool
	// Rectification marks a finding's progress: the fields a device may
	// still write once the finding's inspection is approved, until an
	// office verifies the rectification.
	Rectification bool
}

// TextFormat is a form the values of a text field must have, beside its
// length and Enum.
type TextFormat struct {
	// Valid reports whether a value has the form.
	Valid func(string) bool
	// Canon, if set, gives a value's canonical spelling, the one stored
	// (Field.Canonical): spellings people mean alike are stored alike.
	// It must keep a canonical value as it is.
	Canon func(string) string
	// Label describes the form in Chinese, for messages; Doc in English,
	// for the API documentation.
	Label, Doc string
	// DevicesOnly: the form is checked of what devices send, not of the
	// server's own writes (which keep values stored before it, and the
	// console's forms, shown escaped).
	DevicesOnly bool
}

// SHA256Hex is the form of a SHA-256 as fieldsync writes and compares
// it: 64 lower-case hex digits (what a photo's upload must declare too).
var SHA256Hex = &TextFormat{Valid: IsSHA256, Label: "64 位小写十六进制数字（SHA-256）", Doc: "64 lower-case hex digits (SHA-256)"}

// OneLine is the form of a name or number read on one line (a plate, a
// checkpoint, a site's name): some visible character, and no line break
// or other control or format character. Blank or broken values made rows
// that look alike count apart, and plates no one can read; invisible
// characters (a zero-width space, a direction override) make two plates
// that look the same differ, or one display reversed.
var OneLine = &TextFormat{Valid: func(s string) bool { return !Blank(s) && syncproto.NoControls(s) },
	Label: "一行可见文字（不能为空白，不能含换行、零宽字符、文字方向控制符等控制字符或非字符码位）",
	Doc:   "one line of visible text (not blank; no line breaks, zero-width characters, direction overrides or other control or format characters, no noncharacters)"}

// NoControls is the form of an optional short text read on one line:
// empty, or without line breaks or other control or format characters.
var NoControls = &TextFormat{Valid: syncproto.NoControls,
	Label: "一行文字（不能含换行、零宽字符、文字方向控制符等控制字符或非字符码位）",
	Doc:   "text on one line (no line breaks, zero-width characters, direction overrides or other control or format characters, no noncharacters)"}

// OneNewline returns s with each line break one LF: CR LF (what a
// browser's form sends for a textarea) and a lone CR as LF.
func OneNewline(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// MultiLine reports whether s is text on any number of lines
// (syncproto.FreeText): what a comment, a note or a description may be.
func MultiLine(s string) bool { return syncproto.FreeText(s) }

// FreeText is the form of a text field that has no other (a note, a
// description, a summary): text on any number of lines, without other
// control characters (MultiLine). Every device-written text field without
// a form of its own has it.
var FreeText = &TextFormat{Valid: MultiLine, DevicesOnly: true,
	Label: "文字（可换行；不能含其他控制字符、文字方向控制符或非字符码位）",
	Doc:   "free text: line breaks and tabs, no other control character, direction override or noncharacter"}

// Entity describes a record type that syncs.
type Entity struct {
	Name string
	// Label is the record type's Chinese name, for messages.
	Label  string
	Fields []Field
	// Global entities are reference data visible to every user (county "").
	Global bool
	// CountyField names the field that holds the county when a device gives
	// it; otherwise Parents lists the reference fields the county is taken
	// from, the first one set winning.
	CountyField string
	Parents     []string
	// DeviceWritable entities may be created and updated by devices;
	// DeviceDeletable ones may also be deleted (evidence never is).
	DeviceWritable, DeviceDeletable bool
	// KeptOnce names a server-owned field of a DeviceDeletable entity
	// that an office's act sets (an inspection's reviewed_at): once it
	// is set the record is evidence of that act, which devices no longer
	// delete (not_deletable) nor set back to a draft, which offices do not
	// see (invalid_value) — a returned inspection is corrected and
	// submitted again, not made to vanish with its review, its findings
	// and a closed month's figures.
	KeptOnce string

	byName map[string]*Field
	// rectification names the Rectification fields, for messages.
	rectification []string
}

// Field returns the field a wire name refers to ("answers.fence" → the
// answers map field) and the map key, or nil.
func (e *Entity) Field(wire string) (*Field, string) {
	if f := e.byName[wire]; f != nil && !f.Map {
		return f, ""
	}
	for i := range MetaFields {
		if MetaFields[i].Name == wire {
			return &MetaFields[i], ""
		}
	}
	name, key, ok := strings.Cut(wire, ".")
	if f := e.byName[name]; ok && f != nil && f.Map && mapKeyRE.MatchString(key) {
		return f, key
	}
	return nil, ""
}

// numberField reports whether every entity's field of that wire name
// holds only numbers (TypeInt, TypeReal), and there is one: an error
// message's advice, where the entity may not be known yet.
func numberField(wire string) bool {
	found := false
	for _, e := range entityByName {
		switch f, _ := e.Field(wire); {
		case f == nil:
		case f.Type != TypeInt && f.Type != TypeReal:
			return false
		default:
			found = true
		}
	}
	return found
}

// mapKeyRE is a map field's key: a checklist item's key is snake_case
// and begins with a letter; one beginning with an underscore is none, and
// __proto__, taken as a plain object's key by a JavaScript app, would
// replace the object's prototype and hide every answer.
var mapKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,63}$`)

// MetaFields are the server-owned fields every record carries: who created
// it and when the server received it. They are set once, when the record is
// created, and never merged, so they are kept with the record's bookkeeping
// rather than as fields with HLCs; pulls send them among the fields, without
// an HLC.
var MetaFields = []Field{
	{Name: "created_by", Type: TypeText, Server: true, Immutable: true},
	{Name: "received_at", Type: TypeTime, Server: true, Immutable: true},
}

var (
	inspectionStatus = []string{"draft", "submitted", "returned", "approved"}
	deviceInspStatus = []string{"draft", "submitted"}
	findingStatus    = []string{"open", "rectifying", "rectified", "verified"}
	deviceFindStatus = []string{"open", "rectifying", "rectified"}
	lonRange         = [2]float64{-180, 180}
	latRange         = [2]float64{-90, 90}
	crsValues        = []string{"wgs84", "gcj02", "bd09"}
	reviewDecisions  = []string{"approve", "return"}
)

// The Chinese labels of inspections' and findings' statuses and of
// findings' severities, as the console, the exports and messages show
// them (Field.Labels).
var (
	InspectionStatusLabels = map[string]string{"draft": "草稿", "submitted": "待审核", "returned": "已退回", "approved": "已通过"}
	FindingStatusLabels    = map[string]string{"open": "待整改", "rectifying": "整改中", "rectified": "已整改", "verified": "已核实"}
	SeverityLabels         = map[string]string{"minor": "一般", "major": "较重", "critical": "严重"}
)

// choiceField is a text field whose values are the codes of choices, with
// their labels; legacy, if true, also accepts each label as an alias of
// its code (values phones sent before the field had codes).
func choiceField(name string, choices []syncproto.Choice, legacy bool) Field {
	f := Field{Name: name, Type: TypeText, Enum: syncproto.Codes(choices), Labels: map[string]string{}}
	if legacy {
		f.Aliases, f.aliasJSON = map[string]string{}, map[string]json.RawMessage{}
	}
	for _, c := range choices {
		f.Labels[c.Code] = c.Label
		if legacy {
			f.Aliases[c.Label] = c.Code
			f.aliasJSON[c.Label] = mustJSON(c.Code)
		}
	}
	return f
}

// Label returns the Chinese label of an enumerated field's code, or the
// value itself when it has none.
func (f *Field) Label(code string) string {
	if l, ok := f.Labels[code]; ok {
		return l
	}
	return code
}

// Code returns the code a value stands for — the value itself if it is a
// code, the code of an alias or of a label otherwise — and whether it is
// one of the field's codes. Input forms (the command-line device) use it to
// accept 国六 as well as cn6.
func (f *Field) Code(v string) (string, bool) {
	if slices.Contains(f.Enum, v) {
		return v, true
	}
	if c, ok := f.Aliases[v]; ok {
		return c, true
	}
	for code, l := range f.Labels {
		if l == v {
			return code, true
		}
	}
	return v, false
}

func lon(name string) Field {
	return Field{Name: name, Type: TypeReal, Min: lonRange[0], Max: lonRange[1]}
}
func lat(name string) Field {
	return Field{Name: name, Type: TypeReal, Min: latRange[0], Max: latRange[1]}
}

// Entities is the catalog of every synced entity, in the order a device
// should apply a first sync (references before the records that use them).
var Entities = []*Entity{
	{Name: syncproto.EntityCounty, Label: "区县", Global: true, Fields: []Field{
		{Name: "code", Type: TypeText}, {Name: "name", Type: TypeText},
		{Name: "kind", Type: TypeText}, lon("lon"), lat("lat"),
		{Name: "confirmed", Type: TypeBool}, {Name: "note", Type: TypeText},
	}},
	{Name: syncproto.EntityTemplate, Label: "检查表", Global: true, Fields: []Field{
		{Name: "template_id", Type: TypeText}, {Name: "version", Type: TypeInt},
		{Name: "kind", Type: TypeText}, {Name: "title", Type: TypeText},
		{Name: "description", Type: TypeText, MaxLen: 8000}, {Name: "source", Type: TypeText},
		{Name: "site_kinds", Type: TypeJSON}, {Name: "items", Type: TypeJSON},
	}},
	{Name: syncproto.EntityTask, Label: "整改任务", Global: true, Fields: []Field{
		{Name: "number", Type: TypeText}, {Name: "category", Type: TypeText},
		{Name: "problem", Type: TypeText, MaxLen: 20000}, {Name: "measures", Type: TypeText, MaxLen: 20000},
		{Name: "responsible_units", Type: TypeJSON}, {Name: "responsible_person", Type: TypeText},
		{Name: "acceptance_unit", Type: TypeText}, {Name: "deadline_text", Type: TypeText},
		{Name: "deadline", Type: TypeDate}, {Name: "long_term", Type: TypeBool},
		{Name: "counties", Type: TypeJSON},
		// templates are the checklists whose inspections (in the task's
		// counties) are its evidence; see TaskEvidence.
		{Name: "templates", Type: TypeJSON},
		// The task-wide progress of before issue 10: each county now
		// reports its own in task_progress. Kept readable, never written.
		withDeprecated(choiceField("status", syncproto.TaskStatuses, false), progressMoved),
		withDeprecated(Field{Name: "progress", Type: TypeText, MaxLen: 8000}, progressMoved),
		withDeprecated(Field{Name: "progress_pct", Type: TypeInt, Min: 0, Max: 100}, progressMoved),
	}},
	// task_progress is one county's progress on one rectification task
	// (台账式管理, 一级抓一级): written by offices through the server
	// (Syncer.ReportProgress), pulled by the county's phones. Its id is
	// TaskProgressID(task, county); the rows of a task naming no county
	// are the city's (county CityCounty).
	{Name: syncproto.EntityTaskProgress, Label: "整改进展", CountyField: "county", Fields: []Field{
		{Name: "task_id", Type: TypeText, Required: true, Immutable: true, MaxLen: 64},
		{Name: "county", Type: TypeText, Required: true, Immutable: true},
		choiceField("status", syncproto.TaskStatuses, false),
		{Name: "progress_pct", Type: TypeInt, Min: 0, Max: 100},
		{Name: "note", Type: TypeText, MaxLen: MaxProgressNote},
		// evidence lists what backs the progress: document numbers,
		// links, ids of records (one string each).
		{Name: "evidence", Type: TypeJSON},
		// responsible_leader and responsible_person are who answers for
		// the task in the county (责任领导, 责任人).
		{Name: "responsible_leader", Type: TypeText, MaxLen: MaxResponsible, Format: NoControls},
		{Name: "responsible_person", Type: TypeText, MaxLen: MaxResponsible, Format: NoControls},
		{Name: "reported_by", Type: TypeText},
		{Name: "reported_by_name", Type: TypeText},
		{Name: "reported_at", Type: TypeTime},
	}},
	{Name: syncproto.EntitySite, Label: "点位", CountyField: "county", DeviceWritable: true, Fields: []Field{
		{Name: "county", Type: TypeText, Required: true, Immutable: true},
		// kind decides which checklists apply to the site: a phone sets it
		// when it creates the site, and only an office changes it (a phone
		// reclassifying a site would leave its inspections on checklists
		// of another kind, and the office none the wiser).
		{Name: "kind", Type: TypeText, Required: true, Enum: SiteKinds, Immutable: true},
		{Name: "name", Type: TypeText, Required: true, MaxLen: 200, Format: OneLine},
		{Name: "address", Type: TypeText, MaxLen: 500},
		lon("lon"), lat("lat"),
		// crs is the coordinate system lon/lat were sent in (none: wgs84);
		// the server adds the same place in WGS-84 (site.go).
		{Name: "crs", Type: TypeText, Enum: crsValues},
		// radius_m is the site's geofence, which decides its photos'
		// far_from_site: a phone sets it when it creates the site, and
		// only an office changes it (a phone widening the fence would
		// clear the flag of the photos it takes next).
		{Name: "radius_m", Type: TypeReal, Min: 1, Max: 50000, Immutable: true},
		{Name: "note", Type: TypeText},
		// active false is a site the office has retired (停用): phones
		// offer it for no new inspection. A phone sets it when it creates
		// the site, and only an office changes it (a phone bringing a
		// retired site back would put it on every phone of the county).
		{Name: "active", Type: TypeBool, Immutable: true},
		{Name: "lon_wgs84", Type: TypeReal, Server: true},
		{Name: "lat_wgs84", Type: TypeReal, Server: true},
	}},
	{Name: syncproto.EntityInspection, Label: "检查记录", Parents: []string{"site_id"}, DeviceWritable: true, DeviceDeletable: true, KeptOnce: "reviewed_at", Fields: []Field{
		{Name: "site_id", Type: TypeRef, Ref: syncproto.EntitySite, Required: true, Immutable: true},
		{Name: "template_id", Type: TypeText, Required: true, Immutable: true},
		{Name: "template_version", Type: TypeInt, Required: true, Immutable: true, Min: 1, Max: 1e6},
		{Name: "started_at", Type: TypeTime}, {Name: "finished_at", Type: TypeTime},
		{Name: "status", Type: TypeText, Enum: inspectionStatus, DeviceEnum: deviceInspStatus, Labels: InspectionStatusLabels},
		{Name: "summary", Type: TypeText, MaxLen: 4000},
		lon("lon"), lat("lat"),
		{Name: "answers", Type: TypeJSON, Map: true},
		{Name: "reviewer_id", Type: TypeText, Server: true},
		{Name: "review_comment", Type: TypeText, Server: true, MaxLen: 4000}, // as long as a review's comment
		{Name: "reviewed_at", Type: TypeTime, Server: true},
		// missing_items, unknown_answers and failed_items are the server's
		// check of the answers and photos against the checklist
		// (completeness.go).
		{Name: "missing_items", Type: TypeJSON, Server: true},
		{Name: "unknown_answers", Type: TypeJSON, Server: true},
		{Name: "failed_items", Type: TypeJSON, Server: true},
	}},
	{Name: syncproto.EntityFinding, Label: "发现问题", Parents: []string{"inspection_id"}, DeviceWritable: true, DeviceDeletable: true, Fields: []Field{
		{Name: "inspection_id", Type: TypeRef, Ref: syncproto.EntityInspection, Required: true, Immutable: true},
		{Name: "item_key", Type: TypeText, Immutable: true, MaxLen: 64},
		{Name: "description", Type: TypeText, Required: true, MaxLen: 4000},
		{Name: "severity", Type: TypeText, Enum: []string{"minor", "major", "critical"}, Labels: SeverityLabels},
		{Name: "deadline", Type: TypeDate},
		{Name: "status", Type: TypeText, Enum: findingStatus, DeviceEnum: deviceFindStatus, Labels: FindingStatusLabels, Rectification: true},
		{Name: "rectification_note", Type: TypeText, MaxLen: 4000, Rectification: true},
		// An office's decision on the rectification the inspector
		// reported (Syncer.VerifyFinding): who, when, and the comment
		// that sends it back.
		{Name: "verifier_id", Type: TypeText, Server: true},
		{Name: "verify_comment", Type: TypeText, MaxLen: 4000, Server: true},
		{Name: "verified_at", Type: TypeTime, Server: true},
		// rectified_at is when the inspector reported the rectification
		// a verification confirmed (the time of the status rectified it
		// replaced): the verification's own day says nothing of whether
		// the site was put right in time.
		{Name: "rectified_at", Type: TypeTime, Server: true},
		// rectified_by is who reported it (the user of the device that
		// wrote that status: RectifiedBy).
		{Name: "rectified_by", Type: TypeText, Server: true},
		// rectified_received_at is when the server received the status
		// rectified (set by the push that brings it, kept by a
		// verification): the report's own time is the phone's clock, which
		// an inspector offline for days, or one who set the clock back,
		// gives days before it arrived. The console says so.
		{Name: "rectified_received_at", Type: TypeTime, Server: true},
	}},
	{Name: syncproto.EntityVehicleCheck, Label: "路检记录", CountyField: "county", DeviceWritable: true, Fields: []Field{
		{Name: "county", Type: TypeText, Required: true, Immutable: true},
		{Name: "checkpoint", Type: TypeText, Required: true, MaxLen: 200, Format: LabelText},
		// campaign names the special action (专项行动) the check was made
		// in, if any, so that an action spanning checkpoints sums as one.
		{Name: "campaign", Type: TypeText, MaxLen: 100, Format: CampaignText},
		{Name: "plate", Type: TypeText, Required: true, MaxLen: 16, Format: Plate},
		{Name: "plate_color", Type: TypeText, MaxLen: 8, Format: NoControls},
		{Name: "plate_type", Type: TypeText, MaxLen: 32, Format: NoControls},
		// MaxLen counts what is sent: a VIN typed in groups (LFV2A21K 5831
		// 23456) is stored as its 17 characters.
		{Name: "vin", Type: TypeText, MaxLen: 32, Format: VIN},
		choiceField("emission_stage", syncproto.EmissionStages, true),
		choiceField("fuel", syncproto.Fuels, true),
		{Name: "obd_mil", Type: TypeBool},
		{Name: "obd_codes", Type: TypeText, MaxLen: 500, Format: NoControls},
		choiceField("aftertreatment", syncproto.Aftertreatments, false),
		{Name: "urea_level_pct", Type: TypeReal, Min: 0, Max: 100, Unit: "%", Doc: "the urea (DEF) tank's level, in percent"},
		{Name: "ringelmann", Type: TypeReal, Min: 0, Max: 5, Unit: "级",
			Doc: "the Ringelmann smoke grade (GB 3847-2018 allows grade 1)"},
		// GB 3847-2018 sets its limits on k, not on the opacity N (%)
		// that meters also show: the checklist's item is k too.
		// A meter's k reaches about 16 m⁻¹ at 99.9% opacity: a value past
		// 20 is an opacity in percent typed as k (45 stored as 45 m⁻¹).
		{Name: "opacity", Type: TypeReal, Min: 0, Max: 20, Unit: "m⁻¹",
			Doc: "the exhaust's light absorption coefficient k in m⁻¹, free acceleration test (GB 3847-2018 limits: 1.2 and 0.7 m⁻¹), at most 20 (a meter's k at 99.9% opacity is about 16); not the opacity N in percent"},
		{Name: "remote_sensing_id", Type: TypeText, MaxLen: 64, Format: NoControls},
		choiceField("action", syncproto.VehicleActions, true),
		{Name: "checked_at", Type: TypeTime, Required: true},
		lon("lon"), lat("lat"),
		{Name: "note", Type: TypeText},
		// An office's voiding of the check (Syncer.VoidVehicleCheck): a
		// voided check stays, but counts in no statistic, and devices may
		// no longer change it.
		{Name: "voided_at", Type: TypeTime, Server: true},
		{Name: "voided_by", Type: TypeText, Server: true},
		{Name: "void_reason", Type: TypeText, MaxLen: 4000, Server: true},
	}},
	{Name: syncproto.EntityPhoto, Label: "照片", Parents: []string{"inspection_id", "finding_id", "vehicle_check_id"}, DeviceWritable: true, Fields: []Field{
		{Name: "inspection_id", Type: TypeRef, Ref: syncproto.EntityInspection, Immutable: true},
		{Name: "finding_id", Type: TypeRef, Ref: syncproto.EntityFinding, Immutable: true, Within: "inspection_id"},
		{Name: "vehicle_check_id", Type: TypeRef, Ref: syncproto.EntityVehicleCheck, Immutable: true},
		{Name: "item_key", Type: TypeText, MaxLen: 64},
		{Name: "sha256", Type: TypeText, Required: true, Immutable: true, MaxLen: 64, Format: SHA256Hex},
		// What the phone that took the photo knew of it: when and where
		// (what a signed capture signs), the file's type and size (what
		// its upload is checked against) — that phone's to write only:
		// another would move the evidence, make its signature invalid, or
		// have its own device's upload refused.
		ownDevice(Field{Name: "content_type", Type: TypeText, Enum: []string{"image/jpeg", "image/png", "image/heic"}}),
		ownDevice(Field{Name: "size_bytes", Type: TypeInt, Min: 0, Max: 1 << 40}),
		ownDevice(Field{Name: "captured_at", Type: TypeTime, AsSent: true}),
		ownDevice(lon("lon")), ownDevice(lat("lat")),
		ownDevice(Field{Name: "accuracy_m", Type: TypeReal, Min: 0, Max: 1e6}),
		ownDevice(Field{Name: "crs", Type: TypeText, Enum: crsValues}),
		{Name: "caption", Type: TypeText, MaxLen: 1000},
		{Name: "uploaded", Type: TypeBool, Server: true},
		{Name: "flags", Type: TypeJSON, Server: true},
		// notes are informational, not evidence flags: "reused_by" on an
		// earlier photo that later ones reuse.
		{Name: "notes", Type: TypeJSON, Server: true},
		{Name: "exif", Type: TypeJSON, Server: true},
		{Name: "lon_wgs84", Type: TypeReal, Server: true},
		{Name: "lat_wgs84", Type: TypeReal, Server: true},
		{Name: "site_id", Type: TypeText, Server: true},
		{Name: "phash", Type: TypeText, Server: true},
		{Name: "width", Type: TypeInt, Server: true},
		{Name: "height", Type: TypeInt, Server: true},
		{Name: "processed_at", Type: TypeTime, Server: true},
		// A signed capture (capture.go, signed-captures.md): the app's
		// signature and key id, and the server's result.
		// As long as any text: a signature or a key id too long to be one
		// is marked on the photo (capture invalid), not a reason to refuse
		// the evidence (signed-captures.md §3).
		{Name: syncproto.FieldCaptureSig, Type: TypeText, Immutable: true},
		{Name: syncproto.FieldCaptureKeyID, Type: TypeText, Immutable: true},
		{Name: syncproto.FieldCapture, Type: TypeJSON, Server: true},
	}},
	{Name: syncproto.EntityReview, Label: "审核记录", Parents: []string{"inspection_id"}, Fields: []Field{
		{Name: "inspection_id", Type: TypeRef, Ref: syncproto.EntityInspection, Immutable: true},
		{Name: "decision", Type: TypeText, Enum: reviewDecisions},
		{Name: "comment", Type: TypeText, MaxLen: 4000},
		{Name: "reviewer_id", Type: TypeText},
		{Name: "reviewer_name", Type: TypeText},
		{Name: "decided_at", Type: TypeTime},
	}},
}

const progressMoved = "progress is reported per county in task_progress"

// ownDevice is f written by the record's own device only (Field.OwnDevice).
func ownDevice(f Field) Field {
	f.OwnDevice = true
	return f
}

func withDeprecated(f Field, why string) Field {
	f.Deprecated = why
	return f
}

// SiteKinds are the kinds of inspected site (the codes of
// syncproto.SiteKinds).
var SiteKinds = syncproto.Codes(syncproto.SiteKinds)

var entityByName = map[string]*Entity{}

// names holds every entity and field name, each once.
var names = map[string]string{}

func init() {
	for _, e := range Entities {
		e.byName = make(map[string]*Field, len(e.Fields))
		for i := range e.Fields {
			if f := &e.Fields[i]; f.Type == TypeText && f.Format == nil && f.Enum == nil && f.DeviceEnum == nil && f.Aliases == nil && !f.Server {
				f.Format = FreeText
			}
			e.byName[e.Fields[i].Name] = &e.Fields[i]
			names[e.Fields[i].Name] = e.Fields[i].Name
			if e.Fields[i].Rectification {
				e.rectification = append(e.rectification, e.Fields[i].Name)
			}
		}
		entityByName[e.Name] = e
		names[e.Name] = e.Name
	}
}

// EntityByName returns the entity with that name, or nil.
func EntityByName(name string) *Entity { return entityByName[name] }

// InternName returns b as a string, without copying it when it is the
// name of an entity or of a field (which a push body repeats for every
// mutation).
func InternName(b []byte) string {
	if s, ok := names[string(b)]; ok {
		return s
	}
	return string(b)
}

var nullJSON = json.RawMessage("null")

// Canonical checks a wire value against the field and returns its canonical
// encoding, so that equal values always have equal bytes. device says whether
// a device is writing (DeviceEnum applies).
func (f *Field) Canonical(raw json.RawMessage, device bool) (json.RawMessage, error) {
	return f.canonical(raw, device, false)
}

// canonical is Canonical; normalized says raw is known to be the output of
// NormalizeValue (a pushed value, after requestHash), whose strings are in
// their canonical form already.
func (f *Field) canonical(raw json.RawMessage, device, normalized bool) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, nullJSON) {
		if device && f.DeviceEnum != nil {
			// A status a device moves between its values: none is not
			// one of them (a returned inspection would lose its state).
			return nil, Errorf(syncproto.CodeInvalidValue, "%s不能清空，应为 %s 之一", FieldSaid(f.Name), strings.Join(f.DeviceEnum, "、"))
		}
		return nullJSON, nil
	}
	bad := f.badValue
	switch f.Type {
	case TypeText, TypeTime, TypeDate, TypeRef:
		if body, ok := plainBody(raw); ok { // already canonical
			if code, ok := f.aliasJSON[string(body)]; ok {
				return code, nil
			}
			if f.Format != nil && f.Format.Canon != nil {
				return f.canonicalSpelling(string(body), raw, device)
			}
			if err := f.checkPlain(body, device); err != nil || f.Type != TypeTime || f.AsSent || chinaTimeForm(body) {
				return raw, err
			}
			t, _ := CanonicalTime(string(body))
			return marshalCanonical(t)
		}
		if f.Type == TypeText && f.Enum == nil && f.DeviceEnum == nil && f.Aliases == nil && f.Format == nil && !f.Required {
			if normalized && raw[0] == '"' && len(raw)-2 <= f.maxLen() {
				return raw, nil // canonical, and no more characters than bytes
			}
			if n, _, ok := canonicalText(raw); ok { // escaped, but as canonically
				return raw, f.checkLen(n)
			}
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, bad("应为字符串")
		}
		if code, ok := f.Aliases[s]; ok {
			s = code
		}
		if f.Format != nil && f.Format.Canon != nil {
			return f.canonicalSpelling(s, nil, device)
		}
		if err := f.checkString(s, device); err != nil {
			return nil, err
		}
		if f.Type == TypeTime && !f.AsSent {
			s, _ = CanonicalTime(s)
		}
		return marshalCanonical(s)
	case TypeInt, TypeReal:
		n, err := parseNumber(raw)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, bad("应为数字")
		}
		if f.Type == TypeInt && n != math.Trunc(n) {
			return nil, bad("应为整数")
		}
		if f.Min < f.Max && (n < f.Min || n > f.Max) {
			return nil, bad("超出范围")
		}
		if f.Type == TypeInt {
			return strconv.AppendInt(nil, int64(n), 10), nil
		}
		if b := appendNumber(make([]byte, 0, 24), n); !bytes.Equal(b, raw) {
			return b, nil
		}
		return raw, nil // already in its shortest form
	case TypeBool:
		if string(raw) == "true" || string(raw) == "false" {
			return raw, nil
		}
		return nil, bad("应为 true 或 false")
	case TypeJSON:
		if len(raw) > 64<<10 {
			return nil, bad("内容过大")
		}
		if !json.Valid(raw) || (raw[0] != '{' && raw[0] != '[' && !f.Map) {
			return nil, bad("应为 JSON 对象或数组")
		}
		return canonicalJSON(raw, bad)
	}
	return nil, bad("类型未知")
}

// canonicalSpelling checks a text in the spelling its Format stores
// (TextFormat.Canon) — its length, form and Enum counted there, so that a
// VIN typed with spaces fits and a plate of dots only is blank — and
// returns that spelling's JSON; raw, if given, is s's JSON, returned when
// s is canonical already.
func (f *Field) canonicalSpelling(s string, raw json.RawMessage, device bool) (json.RawMessage, error) {
	c := s
	if utf8.ValidString(s) { // else checkString refuses it
		c = f.Format.Canon(s)
	}
	if err := f.checkString(c, device); err != nil {
		return nil, err
	}
	if c == s && raw != nil {
		return raw, nil
	}
	return marshalCanonical(c)
}

// canonicalJSON re-encodes a JSON value canonically (Field.Canonical's
// general path for JSON fields; apart, so that the value it decodes into
// is allocated only here).
func canonicalJSON(raw json.RawMessage, bad func(string) error) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, bad("应为 JSON")
	}
	return marshalCanonical(v)
}

func (f *Field) badValue(what string) error {
	return Errorf(syncproto.CodeInvalidField, "%s的值无效：%s", FieldSaid(f.Name), what)
}

// checkPlain is checkString for the body of a plain JSON string (valid
// UTF-8, nothing escaped), without copying it for the common checks: this
// runs for every text field of every mutation.
func (f *Field) checkPlain(body []byte, device bool) error {
	if f.Type != TypeText {
		return f.checkString(string(body), device)
	}
	if len(body) > f.maxLen() { // else it has no more characters than bytes
		if err := f.checkLen(utf8.RuneCount(body)); err != nil {
			return err
		}
	}
	// Blank before the form: a required text of spaces is one cleared
	// (invalid_value, sync.md §13), whatever its form would say of it.
	if err := f.checkFilled(string(body)); err != nil {
		return err
	}
	if f.Format != nil {
		if err := f.checkFormat(string(body), device); err != nil {
			return err
		}
	}
	allowed := f.Enum
	if device && f.DeviceEnum != nil {
		allowed = f.DeviceEnum
	}
	if allowed == nil {
		return nil
	}
	for _, a := range allowed {
		if string(body) == a {
			return nil
		}
	}
	return f.notAllowed(string(body), allowed)
}

// notAllowed is the error of value v, not one of allowed: it lists them
// with their labels (a few), and says so when v is a code's label (an app
// that sent 已拆除 for removed: roadside probe).
func (f *Field) notAllowed(v string, allowed []string) error {
	for _, a := range allowed {
		if l := f.Labels[a]; l != "" && l == v {
			return Errorf(syncproto.CodeInvalidValue, "%s不允许取值 %q：“%s”是代码 %s 的名称，请发送代码", FieldSaid(f.Name), v, l, a)
		}
	}
	const listed = 12
	if len(allowed) > listed {
		return Errorf(syncproto.CodeInvalidValue, "%s不允许取值 %q", FieldSaid(f.Name), v)
	}
	codes := make([]string, len(allowed))
	for i, a := range allowed {
		codes[i] = a
		if l := f.Labels[a]; l != "" {
			codes[i] += "（" + l + "）"
		}
	}
	return Errorf(syncproto.CodeInvalidValue, "%s不允许取值 %q，应为 %s 之一", FieldSaid(f.Name), v, strings.Join(codes, "、"))
}

// checkFilled refuses a blank text (empty, spaces, zero-width characters
// only) for a required text field: a finding's description emptied so is
// cleared as surely as by null.
func (f *Field) checkFilled(s string) error {
	if f.Required && f.Type == TypeText && Blank(s) {
		return Errorf(syncproto.CodeInvalidValue, "%s是必填项，不能为空白", FieldSaid(f.Name))
	}
	return nil
}

// checkFormat checks a text against the field's Format, if it has one.
func (f *Field) checkFormat(s string, device bool) error {
	if f.Format != nil && (device || !f.Format.DevicesOnly) && !f.Format.Valid(s) {
		if r, ok := syncproto.FirstControl(s); ok && !Blank(s) {
			// Said as what it is: the value looks right, and the form's
			// label would not tell why (SDK probe: 晋H\u200B20099 read as
			// a plate of the wrong form).
			return Errorf(syncproto.CodeInvalidField, "%s含有看不见的字符（U+%04X，多为从聊天或网页粘贴而来），请删去后重新输入", FieldSaid(f.Name), r)
		}
		label := f.Format.Label
		if label != "" && label[0] < utf8.RuneSelf {
			label = " " + label // 应为 17 位: a space between Chinese and a digit or letter
		}
		return Errorf(syncproto.CodeInvalidField, "%s应为%s", FieldSaid(f.Name), label)
	}
	return nil
}

// checkLen checks a text of n characters against the field's length
// limit (2,000 characters when it sets none).
func (f *Field) checkLen(n int) error {
	if limit := f.maxLen(); n > limit {
		return Errorf(syncproto.CodeInvalidField, "%s超过 %d 个字符", FieldSaid(f.Name), limit)
	}
	return nil
}

// maxLen is the field's length limit in characters.
// LatestDateYear is the last year a date field (a deadline) may name.
const LatestDateYear = 2100

func (f *Field) maxLen() int {
	if f.MaxLen == 0 {
		return 2000
	}
	return f.MaxLen
}

func (f *Field) checkString(s string, device bool) error {
	if !utf8.ValidString(s) {
		return Errorf(syncproto.CodeInvalidField, "%s不是有效的 UTF-8 文本", FieldSaid(f.Name))
	}
	if err := f.checkLen(utf8.RuneCountInString(s)); err != nil {
		return err
	}
	switch f.Type {
	case TypeTime:
		if _, ok := parseTime(s); !ok {
			return Errorf(syncproto.CodeInvalidField, "%s应为 RFC 3339 时间，如 2026-03-01T09:30:00+08:00", FieldSaid(f.Name))
		}
	case TypeDate:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return Errorf(syncproto.CodeInvalidField, "%s应为日期，如 2026-03-31", FieldSaid(f.Name))
		}
		// A deadline in year 1 or 9999 is a slip or a wrong clock's: it
		// would count a finding overdue by centuries, or never.
		if y := d.Year(); y < EarliestDeviceTime.Year() || y > LatestDateYear {
			return Errorf(syncproto.CodeInvalidField, "%s的日期 %s 超出范围（%d 年至 %d 年）", FieldSaid(f.Name), s, EarliestDeviceTime.Year(), LatestDateYear).At(f.Name)
		}
	case TypeRef:
		if !IsCanonicalUUID(s) {
			return Errorf(syncproto.CodeInvalidField, "%s应为小写 UUID", FieldSaid(f.Name))
		}
	}
	if err := f.checkFilled(s); err != nil {
		return err
	}
	if err := f.checkFormat(s, device); err != nil {
		return err
	}
	allowed := f.Enum
	if device && f.DeviceEnum != nil {
		allowed = f.DeviceEnum
	}
	if allowed != nil && !slices.Contains(allowed, s) {
		return f.notAllowed(s, allowed)
	}
	return nil
}

func plainBody(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c < 0x20 || c == '"' || c == '\\' || c == 0xE2 { // 0xE2: U+2028/2029 are escaped
			return nil, false
		}
	}
	return body, utf8.Valid(body)
}

// IsPlain reports whether JSON encodes s as itself in quotes (valid UTF-8,
// nothing the canonical encoder escapes), so that `"` + s + `"` is its
// canonical JSON.
func IsPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == 0xE2 { // 0xE2: U+2028/2029 are escaped
			return false
		}
	}
	return utf8.ValidString(s)
}

// marshalCanonical encodes v without HTML escaping and with sorted object
// keys (encoding/json sorts map keys).
func marshalCanonical(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// The nil and the max UUID (RFC 9562).
const (
	nilUUID = "00000000-0000-0000-0000-000000000000"
	maxUUID = "ffffffff-ffff-ffff-ffff-ffffffffffff"
)

// IsCanonicalUUID reports whether s is a UUID in canonical lower-case
// 8-4-4-4-12 form, other than the nil and the max UUID (all zeros, all
// f). Only that form is accepted as a record, device or batch id, so that
// one record can never arrive under two spellings; and no generator gives
// the nil or max UUID, which an app that failed to make an id sends for
// every record and device alike, merging them all into one.
func IsCanonicalUUID(s string) bool {
	if len(s) != 36 || s == nilUUID || s == maxUUID {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// CheckID refuses an id, in a request's path or query (where names it:
// 路径中的 id, 参数 record_id), that is not a record's or a device's
// (IsCanonicalUUID): invalid_id, not a "not found" that says no such
// record exists when one may, under the id in lower case.
func CheckID(where, id string) error {
	if IsCanonicalUUID(id) {
		return nil
	}
	if trimmed := strings.TrimSpace(id); trimmed != id && IsCanonicalUUID(strings.ToLower(trimmed)) {
		// The id with a space or a line break about it (a link copied
		// from a chat): said, as the quoted id looks right.
		return Errorf(syncproto.CodeInvalidID, "%s %q 前后有多余的空格或换行：请去掉后再试", where, Abridge(id, 64))
	}
	return Errorf(syncproto.CodeInvalidID, "%s %q 不是记录编号：应为小写 UUID（如 0193a1c2-7d4e-7b3a-9f10-2c5d8e9a0b11），且不能全为 0 或全为 f", where, Abridge(id, 64))
}

// ChinaTime is China Standard Time (UTC+8), the time of every county
// fieldsync serves.
var ChinaTime = time.FixedZone("CST", 8*3600)

// ChinaDay is t's date in China's time (2006-01-02).
func ChinaDay(t time.Time) string { return t.In(ChinaTime).Format(time.DateOnly) }

// CanonicalTime returns the canonical form of an RFC 3339 time, the form a
// time field is stored in: the same instant in China Standard Time
// (+08:00), its fraction of a second without trailing zeros. So the first
// ten characters of a stored time are its date in China, which the months
// and weeks of the statistics count by, whatever offset the phone wrote.
// ok is false if s is not an RFC 3339 time.
func CanonicalTime(s string) (t string, ok bool) {
	tm, ok := parseTime(s)
	if !ok {
		return "", false
	}
	return tm.In(ChinaTime).Format(time.RFC3339Nano), true
}

// ParseTime parses an RFC 3339 time as a time field holds it: with the T
// and the Z in either case (RFC 3339, 5.6, allows lower case; Go's parser
// takes upper case only). ok is false for anything else.
func ParseTime(s string) (t time.Time, ok bool) {
	if len(s) > 10 && (s[10] == 't' || s[len(s)-1] == 'z') {
		b := []byte(s)
		if b[10] == 't' {
			b[10] = 'T'
		}
		if b[len(b)-1] == 'z' {
			b[len(b)-1] = 'Z'
		}
		s = string(b)
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	return tm, err == nil
}

// parseTime parses an RFC 3339 time (ParseTime) that has a canonical
// form: its offset within ±23:59 (Go also takes +24:00), and its year, at
// +08:00, from 1 to 9999 (9999-12-31T20:00:00Z would be written in year
// 10000, which no RFC 3339 parser reads back).
func parseTime(s string) (time.Time, bool) {
	tm, ok := ParseTime(s)
	if !ok || subNanos(s) {
		return time.Time{}, false
	}
	_, off := tm.Zone()
	y := tm.In(ChinaTime).Year()
	return tm, off > -24*3600 && off < 24*3600 && y >= 1 && y <= 9999
}

// subNanos reports whether an RFC 3339 time s has more than nine
// fractional digits: Go reads them and drops what is past the
// nanosecond, so the value stored would not be the one sent.
func subNanos(s string) bool {
	if len(s) < 20 || s[19] != '.' {
		return false
	}
	n := 0
	for i := 20; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n++
	}
	return n > 9
}

// chinaTimeForm reports whether a valid RFC 3339 time is written as
// CanonicalTime writes it without having to parse it again: to the
// second, at +08:00 (what phones send).
func chinaTimeForm(b []byte) bool {
	return len(b) == len("2006-01-02T15:04:05+08:00") && b[10] == 'T' && string(b[19:]) == "+08:00"
}
