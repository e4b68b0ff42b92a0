package server

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestAppendNumberMatchesEncodingJSON: numbers are normalized to exactly
// the bytes encoding/json writes for the same double, so stored values
// keep one spelling whichever path wrote them.
func TestAppendNumberMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 112.734567, 38.416663, 1e-6, 1e-7, 9.999e-7, 1e20, 1e21, 1.5e300, -2.5e-300,
		9007199254740991, 0.30000000000000004, math.SmallestNonzeroFloat64, math.MaxFloat64, 123456789.125} {
		want, _ := json.Marshal(f)
		if got := appendNumber(nil, f); string(got) != string(want) {
			t.Errorf("appendNumber(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestNormalizeValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"中文"`, `"中文"`},
		{`"\u4e2d\u6587"`, `"中文"`},
		{`1.0`, `1`},
		{`112.734567`, `112.734567`},
		{` 1e2 `, `100`},
		{`1E-7`, `1e-7`},
		{`{"b":1,"a":[true,null,"x\/y"]}`, `{"a":[true,null,"x/y"],"b":1}`},
		{`"<&>"`, `"<&>"`},
		{`true`, `true`},
		// -0 is 0, at the top and inside (one value, one spelling).
		{`-0.0`, `0`},
		{`-0`, `0`},
		{`{"value":-0.0,"n":[-0,-0e5]}`, `{"n":[0,0],"value":0}`},
	} {
		got, err := NormalizeValue(json.RawMessage(tc.in), "f")
		if err != nil || string(got) != tc.want {
			t.Errorf("NormalizeValue(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// TestJSONProblemWording: a refusal of a JSON text names the body as
// 请求体 without a space after it, and a member between single spaces
// (字段 lon 的数字…), for every kind of problem; a number refused for its
// smallness is not explained as a large one only (API probe).
func TestJSONProblemWording(t *testing.T) {
	deep := strings.Repeat("[", 70) + strings.Repeat("]", 70)
	for _, tc := range []struct{ in, want string }{
		{`1e400`, "请求体的数字"},
		{`{"lon":1e-400}`, "字段 lon 的数字"},
		{`{"lon":1e-400}`, "1e-400"},
		{deep, "] 嵌套超过 64 层"},
		{`{"a":` + deep + `}`, "字段 a[0]"},
		{`"\ud800"`, "请求体含有无效的 UTF-8"},
		{`{"a":"\u0000"}`, "字段 a 含有空字符"},
		{`{"a":1,"a":2}`, "字段 a 在同一个对象中出现了两次"},
		{`[{"a":1,"a":2}]`, "字段 [0].a 在同一个对象中出现了两次"},
	} {
		err := CheckJSON([]byte(tc.in), 64, "")
		msg := ErrorMessage(err)
		if err == nil || !strings.Contains(msg, tc.want) || strings.Contains(msg, "请求体 ") || strings.Contains(msg, "  ") {
			t.Errorf("CheckJSON(%.40s): %q, want it to say %q", tc.in, msg, tc.want)
		}
	}
}
