package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// record is one generated roadside vehicle check: the fields fieldsync's
// vehicle_check entity takes, with a random UUIDv4 id. Both sides of the
// benchmark store exactly these values.
type record struct {
	ID            string  `json:"id"`
	County        string  `json:"county"`
	Checkpoint    string  `json:"checkpoint"`
	Plate         string  `json:"plate"`
	EmissionStage string  `json:"emission_stage"`
	Fuel          string  `json:"fuel"`
	OBDMIL        bool    `json:"obd_mil"`
	Aftertreat    string  `json:"aftertreatment"`
	UreaLevelPct  float64 `json:"urea_level_pct"`
	CheckedAt     string  `json:"checked_at"`
	Note          string  `json:"note"`
}

// row is a record as the raw SQLite table holds it and its read encodes it:
// the record and its two metadata columns.
type row struct {
	record
	UpdatedHLC int64 `json:"updated_hlc"`
	Seq        int64 `json:"seq"`
}

var (
	stages = []string{"国三", "国四", "国五", "国六"}
	words  = []string{"crack", "joint", "spall", "rebar", "rust", "seal", "drain", "curb",
		"rail", "deck", "pier", "bearing", "scour", "paint", "weld", "bolt", "minor", "moderate",
		"severe", "none", "north", "south", "east", "west", "span", "abutment", "culvert", "sign"}
)

// rewriteSuffix is appended to every note when the records are rewritten,
// so a pull can tell the rewritten values from the first ones.
const rewriteSuffix = " r"

// generate returns n records, the same ones on every call (fixed seed), all
// in county. The note carries a ~390-byte JSON object of answers, so that a
// record is about as large as the peers' workload (~560 bytes of JSON).
func generate(n int, county string) []record {
	r := rand.New(rand.NewPCG(42, 14))
	recs := make([]record, n)
	for i := range recs {
		var u [16]byte
		for j := range u {
			u[j] = byte(r.Uint32())
		}
		u[6] = (u[6] & 0x0f) | 0x40
		u[8] = (u[8] & 0x3f) | 0x80
		answers := map[string]any{
			"q01_condition":   []string{"good", "fair", "poor"}[r.IntN(3)],
			"q02_deck_rating": r.IntN(9) + 1,
			"q03_scour":       r.IntN(2) == 1,
			"q04_width_m":     float64(r.IntN(4000)) / 100,
			"q05_photos":      []string{fmt.Sprintf("p%06d-1.jpg", i), fmt.Sprintf("p%06d-2.jpg", i)},
			"q06_gps":         []float64{35 + r.Float64(), -80 - r.Float64()},
			"q07_inspector":   fmt.Sprintf("insp-%03d", r.IntN(200)),
		}
		notes := ""
		for len(notes) < 170 {
			notes += words[r.IntN(len(words))] + " "
		}
		answers["q08_notes"] = notes
		note, _ := json.Marshal(answers)
		recs[i] = record{
			ID:            fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]),
			County:        county,
			Checkpoint:    fmt.Sprintf("site-%05d", r.IntN(20000)),
			Plate:         fmt.Sprintf("晋H%05d", i%100000),
			EmissionStage: stages[i%len(stages)],
			Fuel:          "柴油",
			OBDMIL:        i%3 == 0,
			Aftertreat:    "present",
			UreaLevelPct:  float64(i%100) + 0.5,
			CheckedAt:     "2026-11-20T08:00:00Z",
			Note:          string(note),
		}
	}
	return recs
}

// rewritten is the record as the rewrite pass leaves it.
func (r record) rewritten() record {
	r.Note += rewriteSuffix
	return r
}

// fields returns the record's fields as a push sends them; withCounty
// false leaves out county (a rewrite of a record that already has one).
func (r record) fields(withCounty bool) map[string]json.RawMessage {
	q := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	f := map[string]json.RawMessage{
		"checkpoint":     q(r.Checkpoint),
		"plate":          q(r.Plate),
		"emission_stage": q(r.EmissionStage),
		"fuel":           q(r.Fuel),
		"obd_mil":        q(r.OBDMIL),
		"aftertreatment": q(r.Aftertreat),
		"urea_level_pct": q(r.UreaLevelPct),
		"checked_at":     q(r.CheckedAt),
		"note":           q(r.Note),
	}
	if withCounty {
		f["county"] = q(r.County)
	}
	return f
}

// ownJSONBytes is the size of the records' own JSON after the rewrite (what
// a full pull returns): each one a flat object of its id and fields, with no
// sync metadata.
func ownJSONBytes(recs []record) int64 {
	var n int64
	for _, r := range recs {
		b, _ := json.Marshal(r.rewritten())
		n += int64(len(b))
	}
	return n
}
