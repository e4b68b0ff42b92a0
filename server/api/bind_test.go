package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
)

// TestDecodeErrorNamesTheKind: a value of the wrong type is refused
// naming the kind the field takes — an integer field given 1.5 is told it
// wants an integer, not a number (1.5 is one).
func TestDecodeErrorNamesTheKind(t *testing.T) {
	type body struct {
		Seq     *int64         `json:"seq"`
		Count   uint           `json:"count"`
		Ratio   float64        `json:"ratio"`
		Name    string         `json:"name"`
		On      bool           `json:"on"`
		Tags    []string       `json:"tags"`
		Nothing struct{}       `json:"nothing"`
		Counts  map[string]int `json:"counts"`
		Inner   struct {
			Names map[string]string `json:"names"`
		} `json:"inner"`
	}
	for _, tc := range []struct{ body, want string }{
		{`{"seq":1.5}`, "字段 seq 的类型错误，应为整数"},
		{`{"seq":"3"}`, "字段 seq 的类型错误，应为整数"},
		{`{"count":-1}`, "字段 count 的类型错误，应为非负整数"},
		{`{"ratio":"x"}`, "字段 ratio 的类型错误，应为数字"},
		{`{"name":5}`, "字段 name 的类型错误，应为字符串"},
		{`{"on":"yes"}`, "字段 on 的类型错误，应为 true 或 false"},
		{`{"tags":"a"}`, "字段 tags 的类型错误，应为数组"},
		{`{"nothing":[]}`, "字段 nothing 的类型错误，应为对象"},
		// A map's member is named, the first at fault in the body's order.
		{`{"counts":{"a":1,"b":1.5,"c":"x"}}`, "字段 counts.b 的类型错误，应为整数"},
		{`{"counts":[1]}`, "字段 counts 的类型错误，应为对象"},
		{`{"inner":{"names":{"甲":"x","乙":[]}}}`, "字段 inner.names.乙 的类型错误，应为字符串"},
	} {
		var b body
		err := decodeError(json.Unmarshal([]byte(tc.body), &b), []byte(tc.body), reflect.TypeOf(&b), "")
		if got := server.ErrorMessage(err); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.body, got, tc.want)
		}
	}
}
