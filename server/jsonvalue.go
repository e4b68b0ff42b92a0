package server

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/xinzhou-eco/fieldsync/internal/jsoncheck"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Limits on JSON that every request meets, so that a value is stored and
// served exactly as it was sent, and every phone can parse what it pulls.
const (
	// MaxValueDepth is how deeply one field value may nest objects and
	// arrays ({"a":[1]} is 2 deep).
	MaxValueDepth = 32
	// MaxBodyDepth bounds the nesting of any request body (a push nests
	// its field values 4 deep).
	MaxBodyDepth = 64
)

// CheckJSON checks JSON text — a request body, or one field value — for
// what would not survive storage unchanged or parse on every phone:
// malformed JSON (bad_request), objects and arrays nested deeper than
// maxDepth, invalid UTF-8 or unpaired surrogate escapes, and numbers no
// double holds exactly, such as integers past 2^53 (invalid_field, naming
// where). where names the text for messages ("" for a request body).
func CheckJSON(b []byte, maxDepth int, where string) error {
	if p := jsoncheck.Check(b, maxDepth); p != nil {
		return problemError(p, maxDepth, where)
	}
	return nil
}

// problemError is p's error, at where.
func problemError(p *jsoncheck.Problem, maxDepth int, where string) error {
	at := where
	switch {
	case at == "":
		at = p.Path
	case p.Path != "":
		if p.Path[0] == '[' {
			at += p.Path
		} else {
			at += "." + p.Path
		}
	}
	// For programs, the field the value is of (mutations[3].fields.answers.deep),
	// not a place inside the value; the message names that.
	path := cmp.Or(where, at)
	// number: the value is of a record's field that holds only numbers
	// (a reading): a number it cannot hold is out of range, and a string
	// would not do either.
	number := false
	switch name, ok := strings.CutPrefix(path, "mutations["); {
	case at == "":
		at = "请求体"
	case ok && strings.Contains(name, "].fields."):
		// A record's field, as an inspector knows it: its label, not its
		// change's place in a batch (mutations[2] is the app's business,
		// and in the error's field).
		_, name, _ = strings.Cut(name, "].fields.")
		at, number = FieldSaid(name), numberField(name)
	default:
		at = "字段 " + at + " " // a space after the name, none after 请求体
	}
	// record: the value is of a record's field (free JSON, where a
	// string can hold what a number cannot), not a request's own member.
	record := where != "" || strings.Contains(path, "].fields.")
	var e *Error
	switch {
	case p.Kind == jsoncheck.Depth:
		e = Errorf(syncproto.CodeInvalidField, "%s嵌套超过 %d 层", at, maxDepth)
	case p.Kind == jsoncheck.UTF8:
		e = Errorf(syncproto.CodeInvalidField, "%s含有无效的 UTF-8 编码（或不成对的 \\u 代理项），文本不能被原样保存", at)
	case p.Kind == jsoncheck.NUL:
		e = Errorf(syncproto.CodeInvalidField, "%s含有空字符（\\u0000），文本不能被保存", at)
	case p.Kind == jsoncheck.Duplicate:
		e = Errorf(syncproto.CodeInvalidField, "%s在同一个对象中出现了两次：每个成员名只能出现一次", at)
	case p.Kind == jsoncheck.Number && record && !number:
		e = Errorf(syncproto.CodeInvalidField, "%s的数字无法用双精度浮点数精确保存（绝对值大于 9007199254740991 的整数，或大到、小到超出其范围的数，如 1e400、1e-400），请改用字符串", at)
	case p.Kind == jsoncheck.Number:
		// A request's own member (a seq, a limit) or a record's number
		// field: a number by its type, which a string would not be either.
		// Out of range, or finer than a double keeps (1.00000000000000000001:
		// verification probe, said "out of range" alone).
		e = Errorf(syncproto.CodeInvalidField, "%s的数字超出范围或精度（整数的绝对值不能大于 9007199254740991；小数不能多于双精度浮点数能精确保存的位数，约 15 位有效数字；也不能是 1e400、1e-400 这样超出双精度浮点数范围的数）", at)
	default:
		// Not JSON: no one place is at fault.
		return &Error{Code: syncproto.CodeBadRequest, Message: "JSON 格式错误", Err: p}
	}
	e.Err, e.Field = p, path
	return e
}

// NormalizeValue checks one field value by CheckJSON (at most
// MaxValueDepth deep) and returns its canonical encoding: object keys
// sorted, no insignificant white space, strings escaped only where JSON
// requires, numbers in the shortest form of their double. Two spellings of
// one value (a "\u4e2d" escape or "中", 1.0 or 1) normalize to the same
// bytes, so retries compare by value. where names the field for messages.
func NormalizeValue(raw json.RawMessage, where string) (json.RawMessage, error) {
	v, p := normalizeValue(raw)
	if p != nil {
		return nil, problemError(p, MaxValueDepth, where)
	}
	return v, nil
}

// normalizeValue is NormalizeValue without building a message: it runs
// for every field of every pushed mutation.
func normalizeValue(raw json.RawMessage) (json.RawMessage, *jsoncheck.Problem) {
	raw = bytes.TrimSpace(raw)
	if _, plain := plainBody(raw); plain {
		return raw, nil // valid UTF-8, nothing escaped: canonical already
	}
	if _, _, ok := canonicalText(raw); ok {
		return raw, nil // escaped only as the canonical form escapes
	}
	if p := jsoncheck.Check(raw, MaxValueDepth); p != nil {
		return nil, p
	}
	switch raw[0] {
	case 't', 'f', 'n':
		return raw, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil { // Check has ruled it out
			return nil, &jsoncheck.Problem{Kind: jsoncheck.Number}
		}
		var buf [32]byte
		if b := appendNumber(buf[:0], f); !bytes.Equal(b, raw) {
			return append(json.RawMessage(nil), b...), nil
		}
		return raw, nil // already in its shortest form: no copy
	}
	var v any
	if json.Unmarshal(raw, &v) != nil { // Check has ruled it out
		return nil, &jsoncheck.Problem{Kind: jsoncheck.Syntax}
	}
	b, err := marshalCanonical(positiveZero(v))
	if err != nil {
		return nil, &jsoncheck.Problem{Kind: jsoncheck.Syntax}
	}
	return b, nil
}

// positiveZero replaces every -0 in a decoded JSON value with 0, in place
// (encoding/json writes -0 as "-0": one value, two spellings).
func positiveZero(v any) any {
	switch x := v.(type) {
	case float64:
		if x == 0 {
			return 0.0
		}
	case map[string]any:
		for k, e := range x {
			x[k] = positiveZero(e)
		}
	case []any:
		for i, e := range x {
			x[i] = positiveZero(e)
		}
	}
	return v
}

// appendNumber appends f as encoding/json writes a float64: the shortest
// form, in exponent notation only below 1e-6 or from 1e21 on, with a
// two-digit negative exponent shortened (1e-07 → 1e-7); -0 as 0.
func appendNumber(b []byte, f float64) []byte {
	if f == 0 {
		f = 0 // -0 too
	}
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
