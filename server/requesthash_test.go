package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// hashBatch is what Push does with a batch before its transaction.
func hashBatch(t *testing.T, ms []syncproto.Mutation) string {
	t.Helper()
	h, _, err := requestHash(ms)
	if err != nil {
		t.Fatal(err)
	}
	return h.sum
}

// hashedBatch is a batch of two mutations, its values spelled as spelled.
func hashedBatch(plate, urea, note string) []syncproto.Mutation {
	return []syncproto.Mutation{
		{Entity: "vehicle_check", ID: "0195c2e4-0000-7000-8000-0000000000aa", HLC: "001795875991660-00001-0195c2e4-0000-7000-8000-000000000001",
			Fields: map[string]json.RawMessage{"plate": json.RawMessage(plate), "urea_level_pct": json.RawMessage(urea),
				"obd_mil": json.RawMessage(`true`), "note": json.RawMessage(note)}},
		{Entity: "finding", ID: "0195c2e4-0000-7000-8000-0000000000bb", HLC: "001795875991661-00000-0195c2e4-0000-7000-8000-000000000001", Delete: true},
	}
}

// TestRequestHashAsStored checks the hash a push stores with its batch
// (Batch.RequestHash) against the value the server gave this batch at
// 795925d, so that a change to the hashing that would refuse a phone's
// retry of a batch sent before an upgrade fails here; the same for the
// same values spelled otherwise; another for another value.
func TestRequestHashAsStored(t *testing.T) {
	const stored = "f2e6c6a0b3971e529f5a0e537e8ddb60fbc750b926962e5f66a0e1a98445f5b4"
	if got := hashBatch(t, hashedBatch(` "晋H\u0030001" `, `12.50`, `{"b": 1.0, "a": [1, "x"]}`)); got != stored {
		t.Errorf("hash %s, want %s (as stored by the version before)", got, stored)
	}
	if got := hashBatch(t, hashedBatch(`"晋H0001"`, `12.5`, `{"a":[1,"x"],"b":1}`)); got != stored {
		t.Errorf("the same values spelled otherwise: hash %s, want %s", got, stored)
	}
	if got := hashBatch(t, hashedBatch(`"晋H0002"`, `12.5`, `{"a":[1,"x"],"b":1}`)); got == stored {
		t.Error("another plate hashes the same")
	}
}

// TestRequestHashBeforeCanonicalForms: a batch a server before 23ebd18
// stored — its values hashed as sent, not in their field's canonical
// form — is recognised when the phone sends it again after the upgrade
// (replayed, not refused batch_mismatch); the hash is the one 795925d
// computed for this batch. Another batch under that id is still refused.
func TestRequestHashBeforeCanonicalForms(t *testing.T) {
	const stored = "51c1df949c776e3ca8db36804ac3d3f43d951aff6279fd8b3c3502f7540a3691" // 795925d's
	batch := func(plate string) []syncproto.Mutation {
		return []syncproto.Mutation{{Entity: "vehicle_check", ID: "0195c2e4-0000-7000-8000-0000000000aa",
			HLC: "001795875991660-00001-0195c2e4-0000-7000-8000-000000000001",
			Fields: map[string]json.RawMessage{"checked_at": json.RawMessage(`"2026-12-04T16:00:00.000Z"`), "plate": json.RawMessage(plate),
				"checkpoint": json.RawMessage(`"ｇ１０８检查站　"`), "emission_stage": json.RawMessage(`"国六"`)}}}
	}
	ms := batch(`"晋h30276"`)
	d, _, err := requestHash(ms)
	if err != nil {
		t.Fatal(err)
	}
	if d.sum == stored {
		t.Fatal("the batch hashes as before canonical forms: the case tests nothing")
	}
	if !d.matches(stored, ms) {
		t.Errorf("the hash stored before canonical forms is not recognised")
	}
	if !d.matches(d.sum, ms) {
		t.Errorf("the batch's own hash is not recognised")
	}
	other := batch(`"晋h30277"`)
	if d, _, _ := requestHash(other); d.matches(stored, other) {
		t.Errorf("another plate matches the stored hash")
	}
}

// TestRequestHashNamesFirstBadValue checks that a batch with bad values
// is refused naming the first, in mutation order and then field name
// order.
func TestRequestHashNamesFirstBadValue(t *testing.T) {
	deep := strings.Repeat("[", MaxValueDepth+1) + strings.Repeat("]", MaxValueDepth+1)
	ms := hashedBatch(`"晋H00001"`, `12.5`, `{}`)
	ms = append(ms, hashedBatch(`"晋H00001"`, `12.5`, `{}`)...)
	ms[2].Fields["zeta"] = json.RawMessage(deep)
	ms[2].Fields["alpha"] = json.RawMessage(deep)
	ms[3].Fields = map[string]json.RawMessage{"beta": json.RawMessage(deep)}
	_, _, err := requestHash(ms)
	if err == nil || ErrorField(err) != "mutations[2].fields.alpha" || !strings.HasPrefix(ErrorMessage(err), "字段 alpha") {
		t.Fatalf("error %v at %q, want one at mutations[2].fields.alpha saying 字段 alpha", err, ErrorField(err))
	}
}

// TestRequestHashByFieldForm: a retry that writes a value in another
// spelling of the field's own canonical form — a time at another offset
// for the same instant, a plate or a checkpoint in lower case or with
// spaces — is the same batch; another instant or plate is not.
func TestRequestHashByFieldForm(t *testing.T) {
	batch := func(at, plate, checkpoint string) []syncproto.Mutation {
		return []syncproto.Mutation{{Entity: "vehicle_check", ID: "0195c2e4-0000-7000-8000-0000000000aa",
			HLC: "001795875991660-00001-0195c2e4-0000-7000-8000-000000000001",
			Fields: map[string]json.RawMessage{"checked_at": json.RawMessage(at), "plate": json.RawMessage(plate),
				"checkpoint": json.RawMessage(checkpoint)}}}
	}
	want := hashBatch(t, batch(`"2026-12-03T08:00:00+08:00"`, `"晋H10001"`, `"G5"`))
	for _, tc := range []struct {
		name          string
		at, plate, cp string
		same          bool
	}{
		{"the instant in UTC", `"2026-12-03T00:00:00Z"`, `"晋H10001"`, `"G5"`, true},
		{"a plate in lower case", `"2026-12-03T08:00:00+08:00"`, `"晋h10001"`, `"G5"`, true},
		{"a checkpoint with a space", `"2026-12-03T08:00:00+08:00"`, `"晋H10001"`, `"g5 "`, true},
		{"another instant", `"2026-12-03T00:00:01Z"`, `"晋H10001"`, `"G5"`, false},
		{"another plate", `"2026-12-03T08:00:00+08:00"`, `"晋H20001"`, `"G5"`, false},
	} {
		if got := hashBatch(t, batch(tc.at, tc.plate, tc.cp)); (got == want) != tc.same {
			t.Errorf("%s: same batch %v, want %v", tc.name, got == want, tc.same)
		}
	}
}

// BenchmarkRequestHash hashes a push of 500 roadside checks as fsload
// sends them (a time in UTC, so each pays its field's canonical form),
// putting their values in canonical form, all a push does to them before
// its transaction.
func BenchmarkRequestHash(b *testing.B) {
	ms := make([]syncproto.Mutation, 500)
	for i := range ms {
		ms[i] = syncproto.Mutation{Entity: "vehicle_check", ID: "0195c2e4-0000-7000-8000-0000000000aa",
			HLC: "001795875991660-00001-0195c2e4-0000-7000-8000-000000000001",
			Fields: map[string]json.RawMessage{"county": json.RawMessage(`"140902"`), "checkpoint": json.RawMessage(`"豆罗检查站"`),
				"plate": json.RawMessage(`"晋H00001"`), "emission_stage": json.RawMessage(`"国六"`), "fuel": json.RawMessage(`"柴油"`),
				"obd_mil": json.RawMessage(`true`), "aftertreatment": json.RawMessage(`"present"`), "urea_level_pct": json.RawMessage(`50.5`),
				"checked_at": json.RawMessage(`"2026-11-20T08:00:00Z"`), "note": json.RawMessage(`"` + strings.Repeat("答", 100) + `"`)}}
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range ms {
			ms[i].Fields["checked_at"] = json.RawMessage(`"2026-11-20T08:00:00Z"`)
		}
		if _, errs, err := requestHash(ms); err != nil || errs[0] != nil {
			b.Fatal(err, errs[0])
		}
	}
}

// TestRequestHashFieldErrors: a field a mutation may not write, or a
// value its field refuses, is that mutation's error (the first in field
// name order), not the request's; the other mutations' values are put in
// canonical form all the same.
func TestRequestHashFieldErrors(t *testing.T) {
	ms := hashedBatch(`"晋h00001"`, `12.5`, `"备注"`)
	ms = append(ms, hashedBatch(`"晋H00001"`, `12.5`, `"备注"`)[0], hashedBatch(`"晋H00001"`, `12.5`, `"备注"`)[0])
	ms[2].Fields["zz_unknown"] = json.RawMessage(`1`)
	ms[2].Fields["received_at"] = json.RawMessage(`"2026-11-20T08:00:00+08:00"`)
	ms[3].Fields["urea_level_pct"] = json.RawMessage(`"很多"`)
	_, errs, err := requestHash(ms)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"", "", syncproto.CodeServerOwnedField, syncproto.CodeInvalidField} {
		if got := ErrorCode(errs[i]); errs[i] == nil && want != "" || errs[i] != nil && got != want {
			t.Errorf("mutation %d: %v, want %q", i, errs[i], want)
		}
	}
	if got := string(ms[0].Fields["plate"]); got != `"晋H00001"` {
		t.Errorf("plate put in canonical form: %s", got)
	}
}
