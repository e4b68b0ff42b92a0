package jsoncheck

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name     string
		in       string
		maxDepth int
		kind     Kind
		path     string
	}{
		{"scalar", `"a"`, 0, 0, ""},
		{"object", `{"a": [1, 2.5, -3e2, true, false, null, "x"]}`, 2, 0, ""},
		{"white space around", " \n{}\t", 1, 0, ""},
		{"depth at the limit", deep(32), 32, 0, ""},
		{"depth over the limit", deep(33), 32, Depth, strings.Repeat("[0]", 32)},
		{"depth in a member", `{"answers":{"deep":[[{"x":1}]]}}`, 3, Depth, "answers.deep[0]"},
		{"raw invalid UTF-8", "{\"summary\":\"a\xff\xfe\xfd\"}", 8, UTF8, "summary"},
		{"overlong UTF-8", "\"\xc0\xaf\"", 8, UTF8, ""},
		{"UTF-8 encoded surrogate", "\"\xed\xa0\x80\"", 8, UTF8, ""},
		{"invalid UTF-8 in a key", "{\"a\xff\":1}", 8, UTF8, "a?"},
		{"invalid UTF-8 in a later key names it", "{\"f\":{\"name\":\"x\",\"no\xffte\":1}}", 8, UTF8, "f.no?te"},
		{"lone high surrogate escape", `{"s":"\ud800"}`, 8, UTF8, "s"},
		{"high surrogate then other escape", `["\ud800\u0041"]`, 8, UTF8, "[0]"},
		{"lone low surrogate escape", `["ok", "\udc00"]`, 8, UTF8, "[1]"},
		{"NUL escape in a value", `{"note":"a\u0000b"}`, 8, NUL, "note"},
		{"NUL escape in capitals", `{"a":["x","\U0000"]}`, 8, Syntax, ""},
		{"NUL escape in an array", `["\u0000"]`, 8, NUL, "[0]"},
		{"NUL escape in a key", `{"k\u0000":1}`, 8, NUL, `k\u0000`},
		{"NUL escape in a later key names it, not the one before", `{"fields":{"name":"x","no\u0000te":"a"}}`, 8, NUL, `fields.no\u0000te`},
		{"a bad key with an escaped quote", `{"a\"b\u0000":1}`, 8, NUL, `a\"b\u0000`},
		{"escaped backslash before u0000 is text", `["\\u0000"]`, 8, 0, ""},
		{"U+0001 is kept", `["\u0001"]`, 8, 0, ""},
		{"paired surrogates", `"\ud83d\ude00 中文 \u4e2d"`, 0, 0, ""},
		{"integer beyond 2^53", `{"n":9007199254740993}`, 8, Number, "n"},
		{"2^53 itself", `9007199254740992`, 0, 0, ""},
		{"2^60 written out is re-spelt by a double", `1152921504606846976`, 0, Number, ""},
		{"2^53 + 2 is a double's shortest form", `9007199254740994`, 0, 0, ""},
		{"1e16", `1e16`, 0, 0, ""},
		{"negative beyond 2^53", `[-9007199254740993]`, 8, Number, "[0]"},
		{"fraction past double precision", `1.00000000000000000001`, 0, Number, ""},
		{"shortest form of a double", `0.30000000000000004`, 0, 0, ""},
		{"trailing zeros", `1.50000000000000000000`, 0, 0, ""},
		{"overflow", `1e400`, 0, Number, ""},
		{"underflow", `1e-400`, 0, Number, ""},
		{"tiny written out", "0." + strings.Repeat("0", 400) + "1", 0, Number, ""},
		{"big exponent in range", `1.5e300`, 0, 0, ""},
		{"coordinates", `[112.734567, 38.416663]`, 1, 0, ""},
		{"truncated", `{"a":`, 8, Syntax, ""},
		{"trailing data", `{} {}`, 8, Syntax, ""},
		{"bare control character", "\"a\x01\"", 0, Syntax, ""},
		{"bad escape", `"\x"`, 0, Syntax, ""},
		{"leading zero", `01`, 0, Syntax, ""},
		{"empty", ``, 0, Syntax, ""},
		{"missing colon", `{"a" 1}`, 8, Syntax, ""},
		{"member named twice", `{"username":"county","username":"inspector"}`, 8, Duplicate, "username"},
		{"member named twice, once escaped, is named as read", `{"a":1,"\u0061":2}`, 8, Duplicate, "a"},
		{"escaped names in a path are named as read", `{"\u7b54\u6848":{"n\/a":[[1]]}}`, 3, Depth, "答案.n/a[0]"},
		{"an escaped control character is named as written", `{"a\nb":{"c":1,"c":2}}`, 8, Duplicate, `a\nb.c`},
		{"an escaped lone surrogate is named as written", `{"\ud800x":1,"\ud800x":2}`, 8, UTF8, `\ud800x`},
		{"member named twice in a nested object", `{"m":[{"f":{"x":1,"y":2,"x":3}}]}`, 8, Duplicate, "m[0].f.x"},
		{"a name again after an inner object closes", `{"a":{"b":1,"c":2},"b":1,"a":3}`, 8, Duplicate, "a"},
		{"the same name in sibling objects", `[{"a":1},{"a":2,"b":{"a":3}}]`, 8, 0, ""},
		{"the same name at every depth", `{"a":{"a":{"a":1}}}`, 8, 0, ""},
		{"names in other letter case are other names", `{"a":1,"A":2}`, 8, 0, ""},
		{"many members", manyMembers(40, -1), 8, 0, ""},
		{"many members, one named twice", manyMembers(40, 3), 8, Duplicate, "m3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Check([]byte(tc.in), tc.maxDepth)
			switch {
			case tc.kind == 0 && p != nil:
				t.Fatalf("Check = %v, want nil", p)
			case tc.kind != 0 && p == nil:
				t.Fatalf("Check = nil, want kind %d", tc.kind)
			case tc.kind != 0 && (p.Kind != tc.kind || tc.kind != Syntax && p.Path != tc.path):
				t.Fatalf("Check = kind %d path %q, want kind %d path %q", p.Kind, p.Path, tc.kind, tc.path)
			}
		})
	}
}

// manyMembers is an object of n members m0, m1, …, and then m<again>
// once more if again ≥ 0.
func manyMembers(n, again int) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := range n {
		fmt.Fprintf(&sb, `"m%d":%d,`, i, i)
	}
	if again >= 0 {
		fmt.Fprintf(&sb, `"m%d":0,`, again)
	}
	return strings.TrimSuffix(sb.String(), ",") + "}"
}

// FuzzCheck: Check agrees with encoding/json on what is well-formed, and
// whatever it accepts decodes and re-encodes without change of value.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}]}`, `"\ud83d\ude00"`, `1e5`, `-0.5`, `[[[]]]`, "\"\xff\"", `"\ud800"`, `9007199254740993`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := Check(b, 10000)
		valid := json.Valid(b)
		// Malformed text is always refused (maybe first for another
		// problem found before the syntax error); well-formed text never
		// for its syntax.
		if valid && p != nil && p.Kind == Syntax || !valid && p == nil {
			t.Fatalf("Check %v but json.Valid %v for %q", p, valid, b)
		}
		if p != nil {
			return
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("accepted %q but it does not decode: %v", b, err)
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if q := Check(out, 10000); q != nil {
			t.Fatalf("re-encoding %q gives %q, which Check refuses: %v", b, out, q)
		}
		var w any
		if err := json.Unmarshal(out, &w); err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(w)
		if string(again) != string(out) {
			t.Fatalf("value changed through a round trip: %q → %q → %q", b, out, again)
		}
	})
}

// BenchmarkCheckPushBody scans a push body of 500 roadside checks of ten
// fields, the size phones send, to weigh the check against the push it
// guards (about 17 ms for such a batch: docs/benchmarks.md).
func BenchmarkCheckPushBody(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"device_id":"0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57","batch_id":"0195f4c0-1a2b-7c3d-8e4f-5a6b7c8d9e0f","mutations":[`)
	for i := range 500 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"entity":"vehicle_check","id":"0195f4b9-0000-7000-8000-000000000001","hlc":"001772328600000-00000-0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57",` +
			`"fields":{"county":"140902","checkpoint":"豆罗检查站","plate":"晋H12345","plate_color":"黄","vin":"LZZ1BLSE000000001",` +
			`"emission_stage":"国六","fuel":"天然气","aftertreatment":"removed","checked_at":"2026-11-28T10:00:00+08:00","note":"三元催化器已拆除","lon":112.734567,"lat":38.416663}}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if p := Check(body, 64); p != nil {
			b.Fatal(p)
		}
	}
}

// BenchmarkValidPushBody is encoding/json's own syntax check of the same
// body, for scale.
func BenchmarkValidPushBody(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"mutations":[`)
	for i := range 500 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"entity":"vehicle_check","fields":{"checkpoint":"豆罗检查站","plate":"晋H12345","note":"三元催化器已拆除","lon":112.734567,"lat":38.416663}}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !json.Valid(body) {
			b.Fatal("invalid")
		}
	}
}
