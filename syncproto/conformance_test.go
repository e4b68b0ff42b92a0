package syncproto

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unicode"
)

// The conformance vectors in testdata/conformance.json are shared with the
// JavaScript SDK (sdk/js/test/conformance.test.js runs the same file): the
// cases are listed below, the expected answers come from this package, and
// TestConformanceVectors fails when the file differs from what this code
// answers, so the two clients cannot drift apart.
//
//	go test ./syncproto -run TestConformanceVectors -update

var update = flag.Bool("update", false, "rewrite testdata/conformance.json from the Go implementation")

const conformanceFile = "testdata/conformance.json"

type vectors struct {
	Comment    string        `json:"comment"`
	HLCParse   []parseCase   `json:"hlc_parse"`
	HLCCompare []compareCase `json:"hlc_compare"`
	HLCFormat  []formatCase  `json:"hlc_format"`
	HLCNext    []clockCase   `json:"hlc_next"`
	HLCObserve []clockCase   `json:"hlc_observe"`
	Merge      []mergeCase   `json:"merge"`
	Expand     []expandCase  `json:"expand"`
	Compact    []compactCase `json:"compact"`
	// FreeTextRefused are the ranges of code points (surrogates aside)
	// that FreeText refuses, each [first, last].
	FreeTextRefused [][2]rune `json:"free_text_refused"`
	// OneLineRefused are those NoControls refuses.
	OneLineRefused [][2]rune `json:"one_line_refused"`
}

type parseCase struct {
	In      string `json:"in"`
	OK      bool   `json:"ok"`
	Wall    int64  `json:"wall"`
	Counter uint32 `json:"counter"`
	Node    string `json:"node"`
}

type compareCase struct {
	A    string `json:"a"`
	B    string `json:"b"`
	Want int    `json:"want"`
}

type formatCase struct {
	Wall    int64  `json:"wall"`
	Counter uint32 `json:"counter"`
	Node    string `json:"node"`
	Want    string `json:"want"`
}

// clockCase is a clock of node whose last timestamp is Last, reading
// physical time PT (Unix ms): Now (next) or Observe(Remote) answers Want.
type clockCase struct {
	Node   string `json:"node"`
	Last   string `json:"last"`
	PT     int64  `json:"pt"`
	Remote string `json:"remote,omitempty"`
	Want   string `json:"want"`
}

type vecField struct {
	Value json.RawMessage `json:"value"`
	HLC   string          `json:"hlc"`
}

type vecRecord struct {
	Fields  map[string]vecField `json:"fields"`
	Deleted string              `json:"deleted"`
}

type vecMutation struct {
	Fields map[string]json.RawMessage `json:"fields,omitempty"`
	Delete bool                       `json:"delete,omitempty"`
	HLC    string                     `json:"hlc"`
}

type vecLoss struct {
	Field     string          `json:"field"`
	Value     json.RawMessage `json:"value"`
	HLC       string          `json:"hlc"`
	WinnerHLC string          `json:"winner_hlc"`
	Incoming  bool            `json:"incoming"`
}

type vecOutcome struct {
	Status        string    `json:"status"`
	Won           []string  `json:"won"`
	Same          []string  `json:"same"`
	Losses        []vecLoss `json:"losses"`
	DeleteApplied bool      `json:"delete_applied"`
	DeleteSame    bool      `json:"delete_same"`
}

// mergeCase applies Mutations in order to Start; Outcomes are Merge's
// answers (lists sorted by field) and Record the final state.
type mergeCase struct {
	Name      string        `json:"name"`
	Start     vecRecord     `json:"start"`
	Mutations []vecMutation `json:"mutations"`
	Outcomes  []vecOutcome  `json:"outcomes"`
	Record    vecRecord     `json:"record"`
}

type expandCase struct {
	Name   string            `json:"name"`
	Change Change            `json:"change"`
	Want   map[string]string `json:"want_hlcs"`
}

// compactCase is a compact pull page (as text, so malformed ones can be
// written) and what CompactPage.Response makes of it: the changes, or an
// error (OK false).
type compactCase struct {
	Name string          `json:"name"`
	Page json.RawMessage `json:"page"`
	OK   bool            `json:"ok"`
	Want []Change        `json:"want_changes"`
}

const (
	devA = "0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57"
	devB = "0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a58"
)

func h(wall int64, counter uint32, node string) string {
	return HLC{Wall: wall, Counter: counter, Node: node}.String()
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// conformanceCases lists the inputs; the answers are filled in by fill.
func conformanceCases() vectors {
	v := vectors{Comment: "Shared by syncproto (Go) and sdk/js (JavaScript). Generated: go test ./syncproto -run TestConformanceVectors -update"}
	for _, s := range []string{
		"", "001772328600000-00003-" + devA, "001772328600000-00000-~server", "000000000000001-99999-n",
		"999999999999999-00000-x", "000000000000000-00000-n",
		"x", "1-2-3", "00000000000000a-00000-n", "000000000000001-0000a-n", "000000000000001-00000-",
		"000000000000001-00000-node with space", "000000000000001-00000-tab\there", "000000000000001_00000-n",
		"+00000000000001-00000-n", "-00000000000001-00000-n", "1772328600000-00003-n",
		"000000000000001-00000-" + string(bytes.Repeat([]byte("n"), 64)),
		"000000000000001-00000-" + string(bytes.Repeat([]byte("n"), 65)),
		"000000000000001-00000-节点", "000000000000001-00000-" + string(bytes.Repeat([]byte("节"), 22)),
	} {
		v.HLCParse = append(v.HLCParse, parseCase{In: s})
	}
	pairs := [][2]string{
		{"", ""}, {"", h(1, 0, "a")}, {h(1, 0, "a"), h(1, 0, "b")}, {h(1, 1, "a"), h(1, 0, "b")},
		{h(2, 0, "a"), h(1, 99999, "z")}, {h(1772328600000, 0, devA), h(1772328600000, 0, ServerNode)},
		{h(1772328600000, 0, devB), h(1772328600000, 0, devA)}, {h(5, 5, "n"), h(5, 5, "n")},
		{h(1, 0, "Z"), h(1, 0, "a")}, {h(1, 0, "é"), h(1, 0, "~server")}, {h(1, 0, "😀"), h(1, 0, "\uffff")},
	}
	for _, p := range pairs {
		v.HLCCompare = append(v.HLCCompare, compareCase{A: p[0], B: p[1]})
	}
	v.HLCFormat = []formatCase{
		{}, {Wall: 1, Node: "n"}, {Wall: 1772328600000, Counter: 3, Node: devA}, {Wall: 999999999999999, Counter: 99999, Node: ServerNode},
	}
	const t0 = int64(1772328600000)
	v.HLCNext = []clockCase{
		{Node: devA, Last: "", PT: t0},
		{Node: devA, Last: h(t0, 0, devA), PT: t0},
		{Node: devA, Last: h(t0, 7, devA), PT: t0 - 5000},         // physical time went back
		{Node: devA, Last: h(t0, 7, devA), PT: t0 + 1},            // physical time moved on
		{Node: devA, Last: h(t0, MaxCounter, devA), PT: t0},       // counter overflow advances the wall
		{Node: devA, Last: h(t0, 3, ServerNode), PT: t0},          // last observed from the server
		{Node: devA, Last: h(t0, MaxCounter-1, devA), PT: t0 - 1}, // the last counter
	}
	v.HLCObserve = []clockCase{
		{Node: devA, Last: "", PT: t0, Remote: h(t0+1000, 4, ServerNode)},
		{Node: devA, Last: h(t0, 2, devA), PT: t0, Remote: h(t0, 9, ServerNode)},
		{Node: devA, Last: h(t0, 9, devA), PT: t0, Remote: h(t0, 2, ServerNode)},
		{Node: devA, Last: h(t0, 2, devA), PT: t0 + 50, Remote: h(t0+10, 0, ServerNode)},
		{Node: devA, Last: h(t0+100, 2, devA), PT: t0, Remote: h(t0+10, 5, ServerNode)},
		{Node: devA, Last: h(t0, 2, devA), PT: t0, Remote: ""},
		{Node: devA, Last: h(t0, 5, devA), PT: t0, Remote: h(t0, MaxCounter, ServerNode)},
		{Node: devA, Last: "", PT: t0, Remote: h(t0, 0, devB)},
	}
	a1, a2, b1, b2, s1 := h(t0, 0, devA), h(t0+1000, 0, devA), h(t0+500, 0, devB), h(t0+2000, 0, devB), h(t0+1500, 0, ServerNode)
	empty := vecRecord{Fields: map[string]vecField{}}
	v.Merge = []mergeCase{
		{Name: "create on an empty record", Start: empty, Mutations: []vecMutation{
			{HLC: a1, Fields: map[string]json.RawMessage{"name": raw(`"工地"`), "answers.fence": raw(`{"note":"东侧","result":"fail"}`), "lon": raw(`112.745`)}}}},
		{Name: "different fields from two devices both survive", Start: empty, Mutations: []vecMutation{
			{HLC: a1, Fields: map[string]json.RawMessage{"name": raw(`"a"`), "note": raw(`"n0"`)}},
			{HLC: b1, Fields: map[string]json.RawMessage{"note": raw(`"from b"`)}},
			{HLC: a2, Fields: map[string]json.RawMessage{"name": raw(`"a2"`)}}}},
		{Name: "older write loses and is reported", Start: empty, Mutations: []vecMutation{
			{HLC: b2, Fields: map[string]json.RawMessage{"note": raw(`"newer"`)}},
			{HLC: a2, Fields: map[string]json.RawMessage{"note": raw(`"older"`), "name": raw(`"x"`)}},
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"oldest"`)}}}},
		{Name: "a node overwriting its own value is not a loss", Start: empty, Mutations: []vecMutation{
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"first"`)}},
			{HLC: a2, Fields: map[string]json.RawMessage{"note": raw(`"second"`)}}}},
		{Name: "retry of the same write is a duplicate", Start: empty, Mutations: []vecMutation{
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"x"`), "n": raw(`1`)}},
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"x"`), "n": raw(`1`)}}}},
		{Name: "equal HLCs with different values: the greater canonical JSON wins either way", Start: empty, Mutations: []vecMutation{
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"b"`)}},
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"a"`)}},
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"c"`)}}}},
		{Name: "equal HLCs, other order", Start: empty, Mutations: []vecMutation{
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"c"`), "v": raw(`{"a":1}`)}},
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"a"`), "v": raw(`{"a":1,"b":2}`)}}}},
		{Name: "equal HLCs, non-ASCII and numbers", Start: empty, Mutations: []vecMutation{
			{HLC: b1, Fields: map[string]json.RawMessage{"t": raw(`"中"`), "n": raw(`10`)}},
			{HLC: b1, Fields: map[string]json.RawMessage{"t": raw(`"z"`), "n": raw(`9`)}}}},
		{Name: "delete then a later edit: the record stays deleted, the edit merges", Start: empty, Mutations: []vecMutation{
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"x"`)}},
			{HLC: b1, Delete: true},
			{HLC: a2, Fields: map[string]json.RawMessage{"note": raw(`"edit after delete"`)}}}},
		{Name: "tombstone versus edit: an older delete after a newer edit still deletes", Start: empty, Mutations: []vecMutation{
			{HLC: b2, Fields: map[string]json.RawMessage{"note": raw(`"newest edit"`)}},
			{HLC: a1, Delete: true},
			{HLC: a1, Delete: true},
			{HLC: b1, Delete: true}}},
		{Name: "server write ties a device at the same wall and counter and wins", Start: vecRecord{Fields: map[string]vecField{
			"status": {Value: raw(`"submitted"`), HLC: h(t0+1500, 0, devA)}}}, Mutations: []vecMutation{
			{HLC: s1, Fields: map[string]json.RawMessage{"status": raw(`"returned"`), "review_comment": raw(`"补拍"`)}},
			{HLC: h(t0+1500, 0, devA), Fields: map[string]json.RawMessage{"status": raw(`"submitted"`)}}}},
		{Name: "null clears a field", Start: empty, Mutations: []vecMutation{
			{HLC: a1, Fields: map[string]json.RawMessage{"note": raw(`"x"`)}},
			{HLC: b1, Fields: map[string]json.RawMessage{"note": raw(`null`)}},
			{HLC: b1, Fields: map[string]json.RawMessage{"note": raw(`false`)}}}},
	}
	v.Expand = []expandCase{
		{Name: "groups become per-field HLCs", Change: Change{Seq: 7, Entity: "inspection", ID: "i1", County: "140902",
			Fields:    map[string]json.RawMessage{"status": raw(`"draft"`), "summary": raw(`""`), "missing_items": raw(`[]`)},
			HLCGroups: map[string][]string{a1: {"status", "summary"}, s1: {"missing_items"}}}},
		{Name: "no groups: hlcs as sent", Change: Change{Seq: 8, Entity: "site", ID: "s1", County: "140902",
			Fields: map[string]json.RawMessage{"name": raw(`"x"`)}, HLCs: map[string]string{"name": b1}}},
		{Name: "a field in two groups keeps the greater HLC", Change: Change{Seq: 9, Entity: "finding", ID: "f1",
			Fields:    map[string]json.RawMessage{"description": raw(`"d"`)},
			HLCGroups: map[string][]string{a1: {"description"}, b2: {"description"}, b1: {"description"}}}},
		{Name: "groups and per-field hlcs together", Change: Change{Seq: 10, Entity: "photo", ID: "p1",
			Fields:    map[string]json.RawMessage{"sha256": raw(`"ab"`), "uploaded": raw(`true`)},
			HLCs:      map[string]string{"uploaded": s1, "sha256": a2},
			HLCGroups: map[string][]string{a1: {"sha256"}}}},
		{Name: "a deleted change", Change: Change{Seq: 11, Entity: "inspection", ID: "i2", Deleted: true, DeletedHLC: b2,
			Fields: map[string]json.RawMessage{}, HLCGroups: map[string][]string{}}},
	}
	compact := func(records, nodes string) json.RawMessage {
		return raw(`{"records":` + records + `,"nodes":` + nodes + `,"server_fields":["created_by","received_at"],"cursor":"c1","has_more":true,"server_hlc":"` + s1 + `"}`)
	}
	nodes := `["` + devA + `","~server","` + devB + `"]`
	v.Compact = []compactCase{
		{Name: "one hlc for most fields, county from fields, server fields without hlc", Page: compact(`{"vehicle_check":[{"id":"v1","fields":{"county":"140902","plate":"晋H00001","fuel":"diesel","created_by":"u1","received_at":"2026-11-30T10:00:00Z"},"hlc":"1700000000000-3-0","hlc_fields":{"county":"1699999999999-0-0"}}]}`, nodes)},
		{Name: "county sent when no field gives it; entities sorted; page order kept", Page: compact(`{"site":[{"id":"s2","fields":{"county":"140921","name":"b"},"hlc":"5-0-2"}],"inspection":[{"id":"i1","county":"140902","fields":{"status":"draft","missing_items":[]},"hlc":"1700000000000-0-0","hlc_fields":{"missing_items":"1700000000001-0-1"}},{"id":"i0","county":"140902","fields":{"status":"submitted"},"hlc":"1700000000000-1-2"}]}`, nodes)},
		{Name: "a tombstone", Page: compact(`{"finding":[{"id":"f1","county":"140902","deleted":true,"deleted_hlc":"1700000000002-99999-2"}]}`, nodes)},
		{Name: "global reference data: no county", Page: compact(`{"checklist_template":[{"id":"t@1","fields":{"title":"x","created_by":"","received_at":"2026-11-30T10:00:00Z"},"hlc":"1-0-1"}]}`, nodes)},
		{Name: "a county field of null keeps an explicit county", Page: compact(`{"site":[{"id":"s3","county":"140902","fields":{"county":null},"hlc":"7-0-0"}]}`, nodes)},
		{Name: "an empty page", Page: compact(`{}`, `[]`)},
		{Name: "node index out of range", Page: compact(`{"site":[{"id":"s1","fields":{"name":"a"},"hlc":"1-0-3"}]}`, nodes)},
		{Name: "leading sign", Page: compact(`{"site":[{"id":"s1","fields":{"name":"a"},"hlc":"+1-0-0"}]}`, nodes)},
		{Name: "counter too wide", Page: compact(`{"site":[{"id":"s1","fields":{"name":"a"},"hlc":"1-100000-0"}]}`, nodes)},
		{Name: "wall too wide", Page: compact(`{"site":[{"id":"s1","fields":{"name":"a"},"hlc":"1000000000000000-0-0"}]}`, nodes)},
		{Name: "two parts", Page: compact(`{"site":[{"id":"s1","fields":{"name":"a"},"hlc":"1-0"}]}`, nodes)},
		{Name: "a field without any hlc", Page: compact(`{"site":[{"id":"s1","fields":{"name":"a"}}]}`, nodes)},
		{Name: "a bad hlc in hlc_fields", Page: compact(`{"site":[{"id":"s1","fields":{"name":"a","kind":"b"},"hlc":"1-0-0","hlc_fields":{"kind":"x-0-0"}}]}`, nodes)},
		{Name: "a tombstone with a bad hlc", Page: compact(`{"finding":[{"id":"f1","county":"140902","deleted":true,"deleted_hlc":"0-0-9"}]}`, nodes)},
		{Name: "wall and counter zero", Page: compact(`{"site":[{"id":"s1","fields":{"name":"a"},"hlc":"0-0-0"}]}`, nodes)},
		{Name: "county from a null county field", Page: compact(`{"site":[{"id":"s4","fields":{"county":null},"hlc":"7-0-0"}]}`, nodes)},
		{Name: "county field not text", Page: compact(`{"site":[{"id":"s5","fields":{"county":140902},"hlc":"7-0-0"}]}`, nodes)},
	}
	return v
}

// fill computes every expected answer from this package.
func fill(t *testing.T, v *vectors) {
	v.FreeTextRefused = refusedRanges(FreeText)
	v.OneLineRefused = refusedRanges(NoControls)
	for i := range v.HLCParse {
		c := &v.HLCParse[i]
		p, err := ParseHLC(c.In)
		c.OK = err == nil
		c.Wall, c.Counter, c.Node = p.Wall, p.Counter, p.Node
	}
	for i := range v.HLCCompare {
		c := &v.HLCCompare[i]
		c.Want = mustHLC(t, c.A).Compare(mustHLC(t, c.B))
	}
	for i := range v.HLCFormat {
		c := &v.HLCFormat[i]
		c.Want = HLC{Wall: c.Wall, Counter: c.Counter, Node: c.Node}.String()
	}
	clock := func(c clockCase) *Clock {
		k := NewClock(c.Node, func() time.Time { return time.UnixMilli(c.PT) })
		k.last = mustHLC(t, c.Last)
		return k
	}
	for i := range v.HLCNext {
		v.HLCNext[i].Want = clock(v.HLCNext[i]).Now().String()
	}
	for i := range v.HLCObserve {
		c := &v.HLCObserve[i]
		c.Want = clock(*c).Observe(mustHLC(t, c.Remote)).String()
	}
	for i := range v.Merge {
		c := &v.Merge[i]
		r := Record{Fields: map[string]FieldState{}, Deleted: mustHLC(t, c.Start.Deleted)}
		for name, f := range c.Start.Fields {
			r.Fields[name] = FieldState{Value: f.Value, HLC: mustHLC(t, f.HLC)}
		}
		c.Outcomes = nil
		for _, m := range c.Mutations {
			o := Merge(&r, m.Fields, m.Delete, mustHLC(t, m.HLC))
			out := vecOutcome{Status: o.Status(), Won: sorted(o.Won), Same: sorted(o.Same), Losses: []vecLoss{},
				DeleteApplied: o.DeleteApplied, DeleteSame: o.DeleteSame}
			for _, l := range o.Losses {
				out.Losses = append(out.Losses, vecLoss{Field: l.Field, Value: l.Value, HLC: l.HLC.String(), WinnerHLC: l.WinnerHLC.String(), Incoming: l.Incoming})
			}
			slices.SortFunc(out.Losses, func(a, b vecLoss) int { return bytes.Compare([]byte(a.Field), []byte(b.Field)) })
			c.Outcomes = append(c.Outcomes, out)
		}
		c.Record = vecRecord{Fields: map[string]vecField{}, Deleted: r.Deleted.String()}
		for name, f := range r.Fields {
			c.Record.Fields[name] = vecField{Value: f.Value, HLC: f.HLC.String()}
		}
	}
	for i := range v.Compact {
		c := &v.Compact[i]
		var page CompactPage
		if err := json.Unmarshal(c.Page, &page); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		resp, err := page.Response()
		c.OK, c.Want = err == nil, nil
		if err == nil {
			c.Want = resp.Changes
		}
	}
	for i := range v.Expand {
		c := &v.Expand[i]
		ch := c.Change
		ch.HLCs = maps(c.Change.HLCs)
		ch.ExpandHLCs()
		c.Want = ch.HLCs
		if c.Want == nil {
			c.Want = map[string]string{}
		}
	}
}

func maps(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// refusedRanges returns the ranges of every code point but the
// surrogates that valid refuses as a one-character text.
func refusedRanges(valid func(string) bool) [][2]rune {
	var out [][2]rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xd800 && r <= 0xdfff || valid(string(r)) {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == r-1 {
			out[n-1][1] = r
		} else {
			out = append(out, [2]rune{r, r})
		}
	}
	return out
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return out
}

func mustHLC(t *testing.T, s string) HLC {
	t.Helper()
	h, err := ParseHLC(s)
	if err != nil {
		t.Fatalf("case HLC %q: %v", s, err)
	}
	return h
}

// TestConformanceVectors regenerates the shared vectors from this package
// and compares them with the committed file (-update rewrites it).
func TestConformanceVectors(t *testing.T) {
	v := conformanceCases()
	fill(t, &v)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	path := filepath.FromSlash(conformanceFile)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("%s differs from what syncproto answers: run go test ./syncproto -run TestConformanceVectors -update, then the JS tests (go test ./sdk/js)", conformanceFile)
	}
}

// TestExpandHLCsOrder: expansion does not depend on the order of groups.
func TestExpandHLCsOrder(t *testing.T) {
	for i := 0; i < 20; i++ {
		ch := Change{HLCGroups: map[string][]string{"3": {"a"}, "1": {"a", "b"}, "2": {"b", "c"}}}
		ch.ExpandHLCs()
		if ch.HLCs["a"] != "3" || ch.HLCs["b"] != "2" || ch.HLCs["c"] != "2" || ch.HLCGroups != nil {
			t.Fatalf("ExpandHLCs = %v", ch.HLCs)
		}
	}
}
