package syncproto

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Answer results.
const (
	ResultPass = "pass" // 合格
	ResultFail = "fail" // 不合格
	ResultNA   = "na"   // 不适用: answers an item of any type
)

// Answer is the value of an inspection's answers.<key> field: one object
// per item. A check item has a Result; an item of another type has a
// Value (a number, a string or a boolean, as its type says) or the Result
// na. Note is an optional remark.
type Answer struct {
	// The fields are in name order so that encoding/json writes an Answer
	// as the server stores it (canonical JSON sorts object keys).
	Note   string `json:"note,omitempty"`
	Result string `json:"result,omitempty"`
	Value  any    `json:"value,omitempty"`
}

// MaxNoteLen is the most characters an answer's note may have.
const MaxNoteLen = 2000

// ParseAnswer reads raw, the value of answers.<it.Key>, and checks it
// against the item: an error (in Chinese, naming the item) says why it
// does not answer the item. A bare value, as earlier versions of sync.md
// showed ("pass", 128), is read as {"result": v} for a check item and
// {"value": v} otherwise; new code sends the object.
func ParseAnswer(it *ChecklistItem, raw json.RawMessage) (Answer, error) {
	a, problem := decodeAnswer(bytes.TrimSpace(raw), it.Type == ItemCheck)
	bad := func(format string, args ...any) (Answer, error) {
		return Answer{}, fmt.Errorf("检查项 %s（%s）%s", it.Key, it.Label, fmt.Sprintf(format, args...))
	}
	switch {
	case problem != "":
		return bad("%s", problem)
	case utf8.RuneCountInString(a.Note) > MaxNoteLen:
		return bad("的备注超过 %d 个字", MaxNoteLen)
	case !FreeText(a.Note):
		return bad("的备注含有控制字符、文字方向控制符或非字符码位（只可含文字、换行和制表符）")
	case a.Result != "" && a.Result != ResultPass && a.Result != ResultFail && a.Result != ResultNA:
		return bad("的 result 只能是 pass、fail 或 na，而不是 %q", a.Result)
	case it.Type == ItemCheck && a.Result == "":
		return bad("应答 pass（合格）、fail（不合格）或 na（不适用）")
	case it.Type == ItemCheck && a.Value != nil:
		return bad("是合格/不合格项，不能填 value")
	case it.Type == ItemCheck:
		return a, nil
	case a.Result == ResultNA:
		if a.Value != nil {
			return bad("答了不适用（na），不能同时填 value")
		}
		return a, nil
	case a.Result != "":
		return bad("是%s项，result 只能是 na（不适用）", ItemTypeNames[it.Type])
	case a.Value == nil:
		return bad("没有填 value")
	}
	if err := it.checkValue(a.Value); err != "" {
		return bad("%s", err)
	}
	return a, nil
}

// decodeAnswer reads an answer's properties without checking them against
// an item; problem says what is wrong with its form. It runs for every
// answer of every inspection a push changes, so the usual answer — a flat
// object with plain keys, as canonical JSON stores it — is read by a scan
// of its members rather than through a map.
func decodeAnswer(raw []byte, check bool) (a Answer, problem string) {
	if len(raw) == 0 || !json.Valid(raw) {
		return a, "的答案不是有效的 JSON"
	}
	if raw[0] != '{' { // a bare value, as the old guide showed
		v := decodeValue(raw)
		switch s, isString := v.(string); {
		case v == nil:
			return a, "没有答案"
		case isString && check:
			a.Result = s
		default:
			a.Value = v
		}
		return a, ""
	}
	ok := true
	scanMembers(raw, func(key, value []byte) {
		var good bool
		switch string(key) {
		case "result":
			a.Result, good = decodeResult(value)
		case "note":
			a.Note, good = decodeValue(value).(string)
		case "value":
			a.Value = decodeValue(value)
			good = a.Value != nil
		}
		if !good {
			ok = false
		}
	})
	if ok {
		return a, ""
	}
	// Something is wrong (or spelled with escapes): name it.
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	a = Answer{}
	for _, k := range []string{"result", "value", "note"} {
		v, has := m[k]
		if !has {
			continue
		}
		delete(m, k)
		switch x := decodeValue(v); k {
		case "value":
			if x == nil {
				return a, "的 value 不能为 null"
			}
			a.Value = x
		default:
			s, isString := x.(string)
			if !isString {
				return a, "的答案字段 " + k + " 应为文字"
			}
			if k == "result" {
				a.Result = s
			} else {
				a.Note = s
			}
		}
	}
	for k := range m {
		return a, fmt.Sprintf("的答案含未知字段 %q（只能有 result、value、note）", k)
	}
	return a, ""
}

// scanMembers calls fn with each member of the valid JSON object raw:
// its key as written (between the quotes, escapes left alone) and its
// value.
func scanMembers(raw []byte, fn func(key, value []byte)) {
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] == '"' {
		end := endOfValue(raw, i)
		key := raw[i+1 : end-1]
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // the colon
		end = endOfValue(raw, i)
		fn(key, raw[i:end])
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// endOfValue returns the index just after the valid JSON value that
// starts at raw[i].
func endOfValue(raw []byte, i int) int {
	depth, inString := 0, false
	for j := i; j < len(raw); j++ {
		c := raw[j]
		switch {
		case inString:
			if c == '\\' {
				j++
			} else if c == '"' {
				inString = false
				if depth == 0 {
					return j + 1
				}
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 { // the end of the enclosing object
				return j
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return j
		}
	}
	return len(raw)
}

// decodeResult decodes a result, without allocating for the three valid
// ones.
func decodeResult(raw []byte) (string, bool) {
	for _, r := range []string{ResultPass, ResultFail, ResultNA} {
		if len(raw) == len(r)+2 && string(raw[1:len(raw)-1]) == r && raw[0] == '"' {
			return r, true
		}
	}
	s, ok := decodeValue(raw).(string)
	return s, ok
}

// decodeValue decodes one valid JSON value: a string, float64, bool, nil,
// or (rarely here) a map or slice, with fast paths for the usual scalars.
func decodeValue(raw []byte) any {
	switch c := raw[0]; {
	case c == '"':
		if body := raw[1 : len(raw)-1]; bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
			return string(body)
		}
	case c == 't':
		return true
	case c == 'f':
		return false
	case c == 'n':
		return nil
	case c == '-' || '0' <= c && c <= '9':
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return f
		}
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	return v
}

// checkValue checks the value of an answer to a number, text, choice or
// boolean item; "" means it is good.
func (it *ChecklistItem) checkValue(v any) string {
	switch it.Type {
	case ItemNumber:
		n, ok := v.(float64)
		switch {
		case !ok || math.IsInf(n, 0) || math.IsNaN(n):
			return "应填数字"
		case it.Min != nil && n < *it.Min, it.Max != nil && n > *it.Max:
			return "超出范围 " + it.Range()
		}
	case ItemText:
		s, ok := v.(string)
		if !ok || Blank(s) {
			return "应填文字"
		}
		if !FreeText(s) {
			return "含有控制字符、文字方向控制符或非字符码位（只可含文字、换行和制表符）"
		}
	case ItemChoice:
		s, _ := v.(string)
		if !slices.ContainsFunc(it.Options, func(o ChecklistOption) bool { return o.Value == s }) {
			return "应从选项中选一个：" + it.OptionList()
		}
	case ItemBoolean:
		if _, ok := v.(bool); !ok {
			return "应填 true（是）或 false（否）"
		}
	default:
		return fmt.Sprintf("的类型 %q 未知", it.Type)
	}
	return ""
}

// Limit is a number item's FailsAbove with its unit, for people ("10
// mg/m³"), or "" when it has none.
func (it *ChecklistItem) Limit() string {
	if it.Type != ItemNumber || it.FailsAbove == nil {
		return ""
	}
	s := strconv.FormatFloat(*it.FailsAbove, 'f', -1, 64)
	if it.Unit != "" {
		s += " " + it.Unit
	}
	return s
}

// Range shows a number item's bounds and unit, e.g. "0–5000 µg/m³" or
// "≥ 0 吨" ("" for an item without bounds).
func (it *ChecklistItem) Range() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	var s string
	switch {
	case it.Min != nil && it.Max != nil:
		s = f(*it.Min) + "–" + f(*it.Max)
	case it.Min != nil:
		s = "≥ " + f(*it.Min)
	case it.Max != nil:
		s = "≤ " + f(*it.Max)
	default:
		return ""
	}
	if it.Unit != "" {
		s += " " + it.Unit
	}
	return s
}

// OptionList shows a choice item's options as "value（label）、…", an
// option that fails as "value（label，不合格）".
func (it *ChecklistItem) OptionList() string {
	parts := make([]string, len(it.Options))
	for i, o := range it.Options {
		parts[i] = o.Value + "（" + o.Label + "）"
		if o.Fails {
			parts[i] = o.Value + "（" + o.Label + "，不合格）"
		}
	}
	return strings.Join(parts, "、")
}

// Text shows an answer to the item for people, in Chinese: 合格 / 不合格 /
// 不适用, the number with its unit, the option's label, 是 / 否, or the
// text, followed by the note in brackets.
func (a Answer) Text(it *ChecklistItem) string {
	var s string
	switch a.Result {
	case ResultPass:
		s = "合格"
	case ResultFail:
		s = "不合格"
	case ResultNA:
		s = "不适用"
	}
	switch v := a.Value.(type) {
	case float64:
		if v == 0 {
			v = 0 // not "-0"
		}
		s = strconv.FormatFloat(v, 'f', -1, 64)
		if it.Unit != "" {
			s += " " + it.Unit
		}
	case bool:
		s = map[bool]string{true: "是", false: "否"}[v]
	case string:
		s = v
		for _, o := range it.Options {
			if o.Value == v {
				s = o.Label
			}
		}
	}
	if a.Note != "" {
		s += "（" + a.Note + "）"
	}
	return s
}

// Failed reports whether the answer fails item it: a check answered fail,
// a boolean with FindingOnFail answered false, a choice answered with an
// option that Fails, or a number above the item's FailsAbove. A yes/no item without FindingOnFail (突击或夜间检查:
// how the visit was made) has no wrong answer.
func (a Answer) Failed(it *ChecklistItem) bool {
	switch v := a.Value.(type) {
	case bool:
		return !v && it.FindingOnFail
	case string:
		return it.Type == ItemChoice && slices.ContainsFunc(it.Options, func(o ChecklistOption) bool { return o.Value == v && o.Fails })
	case float64:
		return it.Type == ItemNumber && it.FailsAbove != nil && v > *it.FailsAbove
	}
	return a.Result == ResultFail
}

// FindingDescription is the description of the finding a failed answer
// raises (sync.md 9.1): the item's label, then what failed — 不合格 for a
// check or yes/no item, the chosen option's label for a choice — then the
// answer's note. Phones write it; the field app spells it the same way.
func (a Answer) FindingDescription(it *ChecklistItem) string {
	what := "不合格"
	if v, ok := a.Value.(string); ok && it.Type == ItemChoice {
		what = Answer{Value: v}.Text(it)
	}
	desc := it.Label + "：" + what
	if a.Note != "" {
		desc += "。" + a.Note
	}
	return desc
}

// ShowAnswer renders an answer that may not fit its item (ParseAnswer
// refused it) for people to read: its result, value and note as they are,
// in words where the item has them, never as JSON unless it is not an
// answer at all.
func ShowAnswer(it *ChecklistItem, raw json.RawMessage) string {
	a, problem := decodeAnswer(bytes.TrimSpace(raw), it.Type == ItemCheck)
	if problem != "" {
		return string(raw)
	}
	var parts []string
	if a.Result != "" {
		r := (Answer{Result: a.Result}).Text(it)
		parts = append(parts, cmp.Or(r, a.Result))
	}
	if a.Value != nil {
		v := (Answer{Value: a.Value}).Text(it)
		if v == "" { // an object or a list
			b, _ := json.Marshal(a.Value)
			v = string(b)
		}
		parts = append(parts, v)
	}
	s := strings.Join(parts, "，")
	if a.Note != "" {
		s += "（" + a.Note + "）"
	}
	return s
}

// Expected says in Chinese what answers an item, for people told that an
// answer does not.
func (it *ChecklistItem) Expected() string {
	switch it.Type {
	case ItemCheck:
		return "合格、不合格或不适用"
	case ItemBoolean:
		return "是或否"
	case ItemText:
		return "文字"
	case ItemChoice:
		labels := make([]string, len(it.Options))
		for i, o := range it.Options {
			labels[i] = o.Label
		}
		return "以下之一：" + strings.Join(labels, "、")
	case ItemNumber:
		s := "数字"
		switch {
		case it.Min != nil && it.Max != nil:
			s += fmt.Sprintf("（%s–%s）", fmtNum(*it.Min), fmtNum(*it.Max))
		case it.Min != nil:
			s += "（不小于 " + fmtNum(*it.Min) + "）"
		case it.Max != nil:
			s += "（不大于 " + fmtNum(*it.Max) + "）"
		}
		if it.Unit != "" {
			s += "，单位 " + it.Unit
		}
		return s
	}
	return ItemTypeNames[it.Type]
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
