package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// wireCases: a pull page is written by the store straight from its rows
// (WireChanges); it must say exactly what ToChange says of the records
// Changes reads, for every entity, every column type and every kind of
// text, with HLCs per field and grouped.
var wireCases = []testCase{
	{"WireChangesMatchRecords", testWireChanges},
}

// wireTexts are strings whose JSON needs care: quotes, backslashes,
// controls, HTML characters, U+2028/2029, non-ASCII, emoji.
var wireTexts = []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\bbs\fff\x01soh\x1fus",
	"<b>&amp;</b>", "行\u2028分\u2029段", "料棚未封闭 🚧", "\u007f del", "é", strings.Repeat("长", 300)}

// randomText is a random string of runes from every range a phone can send.
func randomText(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return wireTexts[r.IntN(len(wireTexts))]
	}
	var b strings.Builder
	for range r.IntN(40) {
		switch r.IntN(6) {
		case 0:
			b.WriteRune(rune(1 + r.IntN(0x1f))) // PostgreSQL text holds no NUL
		case 1:
			b.WriteRune(rune(0x20 + r.IntN(0x60)))
		case 2:
			b.WriteRune(rune(0x4e00 + r.IntN(0x5000)))
		case 3:
			b.WriteRune([]rune{'"', '\\', '<', '>', '&', '\u2028', '\u2029', '\ufeff'}[r.IntN(8)])
		case 4:
			b.WriteRune(rune(0x1f300 + r.IntN(0x300)))
		default:
			b.WriteRune(rune(0x80 + r.IntN(0x700)))
		}
	}
	return b.String()
}

// randomValue is a value of f's type (nil: JSON null, which clears it).
func randomValue(r *rand.Rand, f *server.Field) any {
	if r.IntN(8) == 0 {
		return nil
	}
	switch f.Type {
	case server.TypeInt:
		return []int64{0, 1, -1, 42, math.MaxInt32, 1 << 53, -(1 << 53)}[r.IntN(7)]
	case server.TypeReal:
		return []float64{0, 0.1, -112.5, 38.25, 1e-7, 1.5e-9, 1e21, 123456789.125, -0.000001, 3}[r.IntN(10)]
	case server.TypeBool:
		return r.IntN(2) == 0
	case server.TypeJSON:
		return map[string]any{"result": []string{"pass", "fail"}[r.IntN(2)], "note": randomText(r), "n": r.IntN(100),
			"list": []any{1.5, nil, true, randomText(r)}}
	}
	return randomText(r)
}

func testWireChanges(t *testing.T, open Opener) {
	e := seeded(t, open)
	rnd := rand.New(rand.NewPCG(14, 2026))
	err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		for i := range 240 {
			ent := server.Entities[i%len(server.Entities)]
			fields := map[string]json.RawMessage{}
			for j := range ent.Fields {
				f := &ent.Fields[j]
				if f.Name == "county" {
					continue // set below, from the record's county
				}
				if rnd.IntN(4) == 0 || f.Type == server.TypeRef || strings.HasSuffix(f.Name, "_id") {
					continue // absent (references would need their records)
				}
				names := []string{f.Name}
				if f.Map {
					names = nil
					for k := range 1 + rnd.IntN(4) {
						names = append(names, fmt.Sprintf("%s.item_%d", f.Name, k))
					}
				}
				for _, name := range names {
					b, err := json.Marshal(randomValue(rnd, f))
					if err != nil {
						return err
					}
					fields[name] = b
				}
			}
			county := []string{xinfu, dingxia}[rnd.IntN(2)]
			if ent.Global {
				county = ""
			}
			if f, _ := ent.Field("county"); f != nil && !f.Server {
				// The county field: absent, the record's county, another
				// county, or null (a compact page leaves the record's county
				// out only when the field gives it).
				switch rnd.IntN(4) {
				case 1:
					fields["county"], _ = json.Marshal(county)
				case 2:
					fields["county"] = json.RawMessage(`"140000"`)
				case 3:
					fields["county"] = json.RawMessage(`null`)
				}
			}
			r := &server.StoredRecord{Entity: ent, ID: uuid.NewString(), County: county,
				CreatedBy: randomText(rnd), CreatedDevice: "dev", CreatedAt: e.advance(1234567), UpdatedAt: e.Now()}
			// Fields written by up to three HLCs, so records have several groups.
			parts := []map[string]json.RawMessage{{}, {}, {}}
			for name, v := range fields {
				parts[rnd.IntN(3)][name] = v
			}
			for _, part := range parts {
				syncproto.Merge(&r.State, part, false, e.s.Clock.Now())
			}
			if i%11 == 0 {
				syncproto.Merge(&r.State, nil, true, e.s.Clock.Now())
			}
			if err := tx.Put(e.ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []server.Scope{{All: true}, {Counties: []string{xinfu}}} {
		var after int64
		for page := 0; ; page++ {
			recs, more, err := e.st.Changes(e.ctx, scope, after, 37)
			if err != nil {
				t.Fatal(err)
			}
			for _, grouped := range []bool{false, true} {
				wire, wmore, err := e.st.WireChanges(e.ctx, scope, after, 37, grouped, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(wire) != len(recs) || wmore != more {
					t.Fatalf("page %d: %d wire changes (more %v), %d records (more %v)", page, len(wire), wmore, len(recs), more)
				}
				for i, r := range recs {
					sameWire(t, wire[i], server.ToChange(r), grouped)
				}
			}
			cp, err := e.st.CompactChanges(e.ctx, scope, after, 37, nil)
			if err != nil {
				t.Fatal(err)
			}
			sameCompact(t, cp, recs, more)
			if !more {
				break
			}
			after = recs[len(recs)-1].Seq
		}
	}
}

// sameWire checks a wire change against ToChange's: per field, byte for
// byte what encoding/json writes of it (without HTML escaping); grouped,
// the same change once its groups are expanded, with each group's names
// sorted and each HLC once.
func sameWire(t *testing.T, wire json.RawMessage, want syncproto.Change, grouped bool) {
	t.Helper()
	if !grouped {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(want); err != nil {
			t.Fatal(err)
		}
		if exp := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(wire, exp) {
			t.Errorf("wire change\n%s\nwant\n%s", wire, exp)
		}
		return
	}
	var got syncproto.Change
	if err := json.Unmarshal(wire, &got); err != nil {
		t.Fatalf("wire change %s: %v", wire, err)
	}
	if len(got.HLCs) != 0 {
		t.Errorf("grouped change %s %s has hlcs %v", got.Entity, got.ID, got.HLCs)
	}
	for h, names := range got.HLCGroups {
		if !slices.IsSorted(names) || len(names) == 0 {
			t.Errorf("group %s: names %v", h, names)
		}
	}
	got.ExpandHLCs()
	if got.HLCs == nil {
		got.HLCs = map[string]string{}
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Errorf("grouped wire change, expanded\n%s\nwant\n%s", gb, wb)
	}
}

// sameCompact checks a compact page against the records of the same page:
// its count, last seq and more flag, only the documented members, and,
// expanded by syncproto.CompactPage.Response, each record's ToChange but
// for seq.
func sameCompact(t *testing.T, cp *server.CompactPage, recs []*server.StoredRecord, more bool) {
	t.Helper()
	if cp.Count != len(recs) || cp.More != more {
		t.Fatalf("compact page: %d records (more %v), want %d (more %v)", cp.Count, cp.More, len(recs), more)
	}
	if n := len(recs); n > 0 && cp.LastSeq != recs[n-1].Seq {
		t.Errorf("compact page: last seq %d, want %d", cp.LastSeq, recs[n-1].Seq)
	}
	pg := &server.PullPage{Compact: cp, Cursor: "c", ServerHLC: "h"}
	body := pg.AppendJSON(nil)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var page syncproto.CompactPage
	if err := dec.Decode(&page); err != nil {
		t.Fatalf("compact page %s: %v", body, err)
	}
	for _, node := range page.Nodes {
		if _, err := syncproto.ParseHLC("000000000000001-00000-" + node); err != nil {
			t.Errorf("node table entry %q: %v", node, err)
		}
	}
	resp, err := page.Response()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]syncproto.Change{}
	for _, ch := range resp.Changes {
		got[ch.Entity+"/"+ch.ID] = ch
	}
	if len(got) != len(recs) || len(resp.Changes) != len(recs) {
		t.Fatalf("compact page expands to %d changes (%d distinct), want %d", len(resp.Changes), len(got), len(recs))
	}
	for _, r := range recs {
		want := server.ToChange(r)
		want.Seq = 0
		ch, ok := got[r.Entity.Name+"/"+r.ID]
		if !ok {
			t.Errorf("compact page lacks %s %s", r.Entity.Name, r.ID)
			continue
		}
		gb, _ := json.Marshal(ch)
		wb, _ := json.Marshal(want)
		if !bytes.Equal(gb, wb) {
			t.Errorf("compact record, expanded\n%s\nwant\n%s", gb, wb)
		}
	}
}
