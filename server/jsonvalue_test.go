package server

import (
	"encoding/json"
	"math"
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
