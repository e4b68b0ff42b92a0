package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// decodeGeneral is decodeJSON's general path for a body CheckJSON has
// accepted: what decodePush must agree with.
func decodeGeneral(body []byte) (syncproto.PushRequest, error) {
	var req syncproto.PushRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, errors.New("trailing data")
	}
	return req, checkMembers(body, reflect.TypeOf(&req), "")
}

// pushPieces are the parts random push bodies are made of: members as
// clients write them, and every deviation the general path must decide.
var (
	pushValues = []string{
		`"vehicle_check"`, `"0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57"`, `"a\"b"`, `"\u4e2d"`, `""`,
		`1`, `-2.5e3`, `true`, `false`, `null`, `{}`, `[]`, `{"a":[1,{"b":"}"}]}`, `["]",[]]`, `"\\"`,
	}
	fieldNames = []string{`"plate"`, `"note"`, `"plate"`, `"a b"`, `"\u0070late"`, `""`, `"中文"`}
	mutKeys    = []string{`"entity"`, `"id"`, `"hlc"`, `"delete"`, `"fields"`, `"Entity"`, `"extra"`, `"\u0069d"`, `"entity"`, `"seen"`, `"Seen"`}
	topKeys    = []string{`"device_id"`, `"batch_id"`, `"mutations"`, `"Batch_ID"`, `"x"`, `"mutations"`}
	spaces     = []string{"", "", "", " ", "\n\t", "\r\n  "}
)

func randomPushBody(r *rand.Rand) []byte {
	var b strings.Builder
	ws := func() { b.WriteString(spaces[r.IntN(len(spaces))]) }
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	value := func(key string) string {
		if r.IntN(4) > 0 { // mostly the right type
			switch key {
			case `"delete"`:
				return pick([]string{"true", "false"})
			case `"fields"`, `"seen"`:
				vals := pushValues
				if key == `"seen"` && r.IntN(3) > 0 {
					vals = pushValues[:5] // mostly strings, as clients send
				}
				var f strings.Builder
				f.WriteByte('{')
				for i := range r.IntN(5) {
					if i > 0 {
						f.WriteByte(',')
					}
					f.WriteString(pick(fieldNames) + pick(spaces) + ":" + pick(spaces) + pick(vals))
				}
				f.WriteByte('}')
				return f.String()
			case `"mutations"`:
				return "" // written by the caller
			default:
				return pick(pushValues[:5])
			}
		}
		return pick(pushValues)
	}
	object := func(keys []string, n int, inner func(key string)) {
		b.WriteByte('{')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			k := pick(keys)
			b.WriteString(k)
			ws()
			b.WriteByte(':')
			ws()
			inner(k)
			ws()
		}
		b.WriteByte('}')
	}
	ws()
	object(topKeys, r.IntN(5), func(key string) {
		if key != `"mutations"` || r.IntN(8) == 0 {
			b.WriteString(pick(pushValues))
			return
		}
		b.WriteByte('[')
		for i := range r.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			object(mutKeys, r.IntN(6), func(key string) { b.WriteString(value(key)) })
		}
		b.WriteByte(']')
	})
	ws()
	if r.IntN(20) == 0 {
		b.WriteString(pick([]string{"{}", "x", " 1"}))
	}
	return []byte(b.String())
}

// TestDecodePushAgreesWithEncodingJSON checks the push body reader against
// encoding/json on random bodies of every shape: whatever decodePush
// accepts, the general path accepts too and reads the same, field values
// byte for byte; and the bodies clients send are read by decodePush.
func TestDecodePushAgreesWithEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fast, general := 0, 0
	for range 40000 {
		body := randomPushBody(r)
		if server.CheckJSON(body, server.MaxBodyDepth, "") != nil {
			continue
		}
		var got syncproto.PushRequest
		if !decodePush(body, &got) {
			if !reflect.DeepEqual(got, syncproto.PushRequest{}) {
				t.Fatalf("decodePush refused %s but changed the request: %+v", body, got)
			}
			general++
			continue
		}
		fast++
		want, err := decodeGeneral(body)
		if err != nil {
			t.Fatalf("decodePush read %s, which the general path refuses: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodePush read %s as\n%+v\nthe general path as\n%+v", body, got, want)
		}
	}
	if fast < 2000 || general < 2000 {
		t.Fatalf("the generator is one-sided: %d bodies read by decodePush, %d left to the general path", fast, general)
	}

	// What clients send is read by the fast path.
	m := syncproto.Mutation{Entity: "vehicle_check", ID: "0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57", HLC: "001796054282437-00349-0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57",
		Fields: map[string]json.RawMessage{"plate": json.RawMessage(`"晋H01349"`), "note": json.RawMessage(`"{\"q\":1}"`), "obd_mil": json.RawMessage(`false`), "urea_level_pct": json.RawMessage(`49.5`), "lat": json.RawMessage(`null`)},
		Seen:   map[string]string{"plate": "001796054282000-00001-0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a58", "note": "001796054282000-00002-00000000-0000-0000-0000-000000000000"}}
	for _, body := range [][]byte{
		mustMarshal(t, syncproto.PushRequest{DeviceID: "d", BatchID: "b", Mutations: []syncproto.Mutation{m, {Entity: "photo", ID: "x", HLC: "h", Delete: true}}}),
		mustIndent(t, syncproto.PushRequest{DeviceID: "d", BatchID: "b", Mutations: []syncproto.Mutation{m}}),
		[]byte(`{"device_id":"d","batch_id":"b","mutations":[]}`),
	} {
		var got syncproto.PushRequest
		if !decodePush(body, &got) {
			t.Errorf("decodePush left a client's body to the general path: %s", body)
			continue
		}
		if want, err := decodeGeneral(body); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("decodePush read %s as %+v, the general path as %+v (%v)", body, got, want, err)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustIndent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, " ", "\t")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
