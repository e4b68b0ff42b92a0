package server

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// stringFragments are pieces of JSON string bodies, escaped and raw, that
// the canonical form writes, does not write, or refuses.
var stringFragments = []string{
	`a`, `中文`, `—`, `…`, `℃`, `😀`, `<`, `&`, `/`, ` `,
	`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`,
	`\u0001`, `\u001f`, `\u001F`, `\u0000`, `\u0008`, `\u000a`, `\u0041`,
	`\u00e9`, `\u2028`, `\u2029`, `\u4e2d`, `\ud83d\ude00`, `\ud83d`, `\x`, `\`,
	"\u2028", "\u2029", "\x01", "\x7f", "\xff", "\xed\xa0\x80", `"`,
}

func randomJSONString(r *rand.Rand) []byte {
	var b strings.Builder
	b.WriteByte('"')
	for range r.IntN(8) {
		b.WriteString(stringFragments[r.IntN(len(stringFragments))])
	}
	b.WriteByte('"')
	return []byte(b.String())
}

// TestCanonicalTextAgreesWithEncodingJSON checks the in-place reading of
// canonical strings against encoding/json: whatever canonicalText accepts
// decodes with encoding/json to a text whose canonical encoding is the
// same bytes, with the rune count and the text CanonicalString (and
// AppendCanonicalString) gives; and
// every text encoding/json writes (without NUL or invalid UTF-8) is
// accepted.
func TestCanonicalTextAgreesWithEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	accepted, refused := 0, 0
	for range 50000 {
		raw := randomJSONString(r)
		n, escaped, ok := canonicalText(raw)
		if !ok {
			refused++
			// Refusing is always safe (the general path decides), but
			// what encoding/json writes itself must not be refused.
			var s string
			if json.Unmarshal(raw, &s) == nil && !strings.ContainsRune(s, 0) && utf8.ValidString(s) && bytes.Equal(mustCanonical(t, s), raw) {
				t.Fatalf("canonicalText refused %q, which is canonical", raw)
			}
			continue
		}
		accepted++
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("canonicalText accepted %q, which encoding/json refuses: %v", raw, err)
		}
		if got := mustCanonical(t, s); !bytes.Equal(got, raw) {
			t.Fatalf("canonicalText accepted %q, but its canonical form is %q", raw, got)
		}
		if want := utf8.RuneCountInString(s); n != want {
			t.Fatalf("%q: %d characters, want %d", raw, n, want)
		}
		if escaped != bytes.ContainsRune(raw, '\\') {
			t.Fatalf("%q: escaped = %v", raw, escaped)
		}
		if got, ok := CanonicalString(raw); !ok || got != s {
			t.Fatalf("CanonicalString(%q) = %q, %v; want %q", raw, got, ok, s)
		}
		if got, ok := AppendCanonicalString([]byte("前"), raw); !ok || string(got) != "前"+s {
			t.Fatalf("AppendCanonicalString(前, %q) = %q, %v; want %q", raw, got, ok, "前"+s)
		}
	}
	if accepted < 1000 || refused < 1000 {
		t.Fatalf("the generator is too one-sided: %d accepted, %d refused", accepted, refused)
	}
	for _, s := range []string{"", "plain", "引号\"与\\反斜杠", "\b\f\n\r\t\x01\x1f", "\u2028\u2029", "<&>"} {
		raw := mustCanonical(t, s)
		if got, ok := CanonicalString(raw); !ok || got != s {
			t.Errorf("CanonicalString(%s) = %q, %v; want %q", raw, got, ok, s)
		}
	}
	if _, ok := CanonicalString([]byte(`"\u0000"`)); ok {
		t.Error(`CanonicalString accepted "\u0000": NUL is left to the general path, which refuses it`)
	}
}

func mustCanonical(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshalCanonical(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// canonicalByEncodingJSON is how Field.Canonical read numbers and booleans
// before it read them itself: the reference its fast path must match.
func canonicalByEncodingJSON(f *Field, raw []byte) ([]byte, bool) {
	if string(raw) == "null" {
		return raw, true // clears the field, whatever its type
	}
	var v any
	switch f.Type {
	case TypeInt, TypeReal:
		var n float64
		if json.Unmarshal(raw, &n) != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, false
		}
		if f.Type == TypeInt && n != math.Trunc(n) {
			return nil, false
		}
		if f.Min < f.Max && (n < f.Min || n > f.Max) {
			return nil, false
		}
		if n == 0 {
			n = 0 // -0 is 0: one value, one spelling (appendNumber)
		}
		v = n
		if f.Type == TypeInt {
			v = int64(n)
		}
	case TypeBool:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, false
		}
		v = b
	case TypeText:
		var s string
		if json.Unmarshal(raw, &s) != nil || f.checkString(s, true) != nil {
			return nil, false
		}
		v = s
	}
	b, err := marshalCanonical(v)
	return b, err == nil
}

// TestFieldCanonicalMatchesEncodingJSON compares Field.Canonical, which
// reads numbers, booleans and canonical strings without encoding/json,
// with encoding/json's reading of the same values, on valid and invalid
// spellings alike.
func TestFieldCanonicalMatchesEncodingJSON(t *testing.T) {
	fields := []*Field{
		{Name: "n", Type: TypeInt},
		{Name: "n", Type: TypeInt, Min: 0, Max: 1 << 40},
		{Name: "x", Type: TypeReal},
		{Name: "x", Type: TypeReal, Min: -90, Max: 90},
		{Name: "b", Type: TypeBool},
		{Name: "s", Type: TypeText, MaxLen: 5},
		{Name: "s", Type: TypeText},
	}
	numbers := []string{
		"0", "-0", "1", "-1", "01", "+1", "1.", ".5", "1.0", "1.50", "1e3", "1E3", "1e+3", "1e-7", "1e-07",
		"1e", "-", "--1", "1e400", "-1e400", "1e21", "1e20", "123456789012345678", "9007199254740993",
		"0.1", "0.30000000000000004", "1_000", "0x10", "Inf", "NaN", "true", "false", "null", `"1"`, "[]", "{}",
		"tru", "1 ", "2.5e-3", "-0.0", "4.9e-324", "1.7976931348623157e308", "45.5", "90.0000001",
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		numbers = append(numbers, string(randomJSONString(r)))
		var b []byte
		for range 1 + r.IntN(6) {
			b = append(b, "0123456789-+.eE"[r.IntN(15)])
		}
		numbers = append(numbers, string(b))
	}
	for _, f := range fields {
		for _, raw := range numbers {
			raw := bytes.TrimSpace([]byte(raw))
			if f.Type == TypeText && (len(raw) == 0 || raw[0] != '"') {
				continue
			}
			want, wantOK := canonicalByEncodingJSON(f, raw)
			got, err := f.Canonical(raw, true)
			if (err == nil) != wantOK || err == nil && !bytes.Equal(got, want) {
				t.Errorf("%s (%v, %g..%g) Canonical(%s) = %s, %v; encoding/json: %s, ok %v", f.Name, f.Type, f.Min, f.Max, raw, got, err, want, wantOK)
			}
		}
	}
}

// TestTextLengthLimit: a text field's limit counts characters, not bytes
// and not escapes, whether the value comes as it is sent (office writes)
// or normalized (a push, after requestHash), plain or escaped.
func TestTextLengthLimit(t *testing.T) {
	note := &Field{Name: "note", Type: TypeText} // 2,000 characters
	short := &Field{Name: "short", Type: TypeText, MaxLen: 5}
	quote := func(body string) string { return `"` + body + `"` }
	for _, c := range []struct {
		f  *Field
		v  string
		ok bool
	}{
		{note, quote(strings.Repeat("x", 2000)), true},
		{note, quote(strings.Repeat("x", 2001)), false},
		{note, quote(strings.Repeat("豆", 2000)), true}, // 6,000 bytes
		{note, quote(strings.Repeat("豆", 2001)), false},
		{note, quote(strings.Repeat("x", 1998) + `\"\n`), true}, // 2,002 bytes inside the quotes
		{note, quote(strings.Repeat("x", 1999) + `\"\n`), false},
		{note, quote(strings.Repeat("豆", 1999) + `\u2028`), true},
		{note, quote(strings.Repeat("豆", 2000) + `\u2028`), false},
		{short, quote("豆罗检查站"), true},
		{short, quote("豆罗检查站x"), false},
		{short, quote(`a\"b\"c`), true},
		{short, quote(`a\"b\"cd`), false},
	} {
		raw := []byte(c.v)
		normalized, err := NormalizeValue(raw, "v")
		if err != nil {
			t.Fatalf("%.20s…: %v", c.v, err)
		}
		for _, n := range []bool{false, true} {
			got, err := c.f.canonical(normalized, true, n)
			if (err == nil) != c.ok {
				t.Errorf("%s, %d bytes, normalized %v: %v, want ok %v", c.f.Name, len(raw), n, err, c.ok)
			}
			if err == nil && !bytes.Equal(got, raw) {
				t.Errorf("%s, %d bytes, normalized %v: %.20s…, want the value as sent", c.f.Name, len(raw), n, got)
			}
		}
	}
}
