package console

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// ExplainFlags turns a photo's evidence flags (the JSON object the photo
// processor writes) into Chinese sentences a reviewer can act on, in a
// stable order; items names the inspection's checklist items (key →
// label; nil: by key). Unknown flags are named as they are.
func ExplainFlags(raw json.RawMessage, items map[string]string) []string {
	_, texts := explain(raw, items)
	return texts
}

// explain returns the flags' names, sorted, and their sentences; items
// names the checklist's items (key → label) a flag may refer to.
func explain(raw json.RawMessage, items map[string]string) (names, texts []string) {
	var flags map[string]map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &flags) != nil {
		return nil, nil
	}
	for k := range flags {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t := explainFlag(k, flags[k], items)
		if k == "near_duplicate" {
			t += nearHow(flags[k])
		}
		texts = append(texts, t)
	}
	return names, texts
}

// nearHow says how a near duplicate matched: a mirror image, a part of the
// other picture (or the other a part of it), or both; "" for a copy of the
// whole.
func nearHow(v map[string]any) string {
	switch m, c := v["mirrored"] == true, v["cropped"] == true; {
	case m && c:
		return "（经镜像翻转和裁剪）"
	case m:
		return "（经镜像翻转）"
	case c:
		return "（经裁剪或局部相同）"
	}
	return ""
}

func num(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprint(v)
}

// mismatchAmounts names, for each reason, the key of its amount in
// seconds.
var mismatchAmounts = map[string]string{
	"exif_vs_device": "exif_minus_device_s",
	"outside_visit":  "outside_visit_s",
	"after_receipt":  "after_receipt_s",
}

// mismatchAmount says by how much a time disagreed (seconds, signed as
// the flag writes them).
func mismatchAmount(reason string, s float64) string {
	early, late := "早", "晚"
	switch reason {
	case "exif_vs_device":
		early, late = "比手机记录的时间早", "比手机记录的时间晚"
	case "outside_visit":
		early, late = "在检查开始前", "在检查结束后"
	case "after_receipt":
		return "（晚 " + span(s) + "）"
	}
	if s < 0 {
		return "（" + early + " " + span(-s) + "）"
	}
	return "（" + late + " " + span(s) + "）"
}

// span writes a duration of s seconds in Chinese, to its two largest units.
func span(s float64) string {
	sec := int64(math.Round(s))
	units := []struct {
		n    int64
		name string
	}{{86400, "天"}, {3600, "小时"}, {60, "分钟"}, {1, "秒"}}
	var parts []string
	for _, u := range units {
		if sec >= u.n && len(parts) < 2 {
			parts = append(parts, fmt.Sprintf("%d %s", sec/u.n, u.name))
			sec %= u.n
		} else if len(parts) > 0 {
			break
		}
	}
	if len(parts) == 0 {
		return "0 秒"
	}
	return strings.Join(parts, " ")
}

// distance writes metres in Chinese: 850 米, 1.2 公里.
func distance(v any) string {
	m, ok := v.(float64)
	if !ok {
		return fmt.Sprint(v)
	}
	if m >= 1000 {
		return fmt.Sprintf("%.1f 公里", m/1000)
	}
	return fmt.Sprintf("%.0f 米", m)
}

// exactDistance writes metres to the metre, and past a kilometre in
// kilometres too, as the flags say them: 850 米, 356784 米（356.8 公里）
// (roadside probe: a photo's 356784 米 beside its flag's 356.8 公里).
func exactDistance(m float64) string {
	r := math.Round(m)
	s := fmt.Sprintf("%.0f 米", r)
	if r >= 1000 {
		s += "（" + distance(r) + "）"
	}
	return s
}

var mismatchReasons = map[string]string{
	"no_exif_time":   "照片文件不含拍摄时间（EXIF），无法用照片本身核对，只有手机记录的拍摄时间",
	"exif_vs_device": "照片 EXIF 时间与手机记录的拍摄时间不一致",
	"outside_visit":  "拍摄时间不在本次检查的起止时间内",
	"after_receipt":  "拍摄时间晚于服务器收到照片的时间",
}

func explainFlag(name string, v map[string]any, items map[string]string) string {
	switch name {
	case "no_gps":
		what := "照片不含 GPS 位置信息"
		if bad, _ := v["invalid_gps"].(bool); bad {
			what = "照片的 GPS 坐标无效（超出范围或格式错误，不是相机定位写入的，可能被改写或损坏）"
		}
		if d, _ := v["device_location"].(bool); d {
			return what + "（位置取自手机定位）"
		}
		return what
	case "far_from_site":
		src := "手机定位"
		if v["source"] == "exif" {
			src = "照片 GPS"
		}
		if _, ok := v["vehicle_check_id"]; ok {
			return fmt.Sprintf("拍摄位置距路检记录的检查位置 %s（允许 %s，位置来自%s）", distance(v["distance_m"]), distance(v["radius_m"]), src)
		}
		return fmt.Sprintf("拍摄位置距点位 %s（围栏半径 %s，位置来自%s）", distance(v["distance_m"]), distance(v["radius_m"]), src)
	case "time_mismatch":
		var rs []string
		if list, ok := v["reasons"].([]any); ok {
			for _, r := range list {
				s, _ := r.(string)
				m := mismatchReasons[s]
				if m == "" {
					m = s
				}
				if by, ok := v[mismatchAmounts[s]].(float64); ok { // by how much (written since issue 15)
					m += mismatchAmount(s, by)
				}
				rs = append(rs, m)
			}
		}
		return "拍摄时间存疑：" + strings.Join(rs, "；")
	case "position_mismatch":
		d, allowed := distance(v["distance_m"]), distance(v["allowed_m"])
		if d == allowed {
			// Rounded alike, a distance over what is allowed read as
			// within it: said to the decimetre.
			d, allowed = fmt.Sprintf("%.1f 米", v["distance_m"]), fmt.Sprintf("%.1f 米", v["allowed_m"])
		}
		return fmt.Sprintf("照片 EXIF 中的位置与手机拍摄时的定位相距 %s（两者精度加余量共允许 %s）", d, allowed)
	case "mock_location":
		return "定位精度恰为 0 米，可能使用了模拟定位"
	case "edited":
		return fmt.Sprintf("照片经图像编辑软件处理（%v）", v["software"])
	case "duplicate":
		if ids, ok := v["photo_ids"].([]any); ok { // as written before issue 9
			return fmt.Sprintf("同一张照片还作为其他检查的证据（%d 张）", len(ids))
		}
		return fmt.Sprintf("同一张照片此前已作为其他检查的证据（%s 张，%s）", num(v["count"]), whereRefs(v["photos"]))
	case "duplicate_item":
		var others []string
		list, _ := v["photos"].([]any)
		for _, r := range list {
			m, _ := r.(map[string]any)
			if k, ok := m["item_key"].(string); ok {
				others = append(others, cmp.Or(items[k], k))
			}
		}
		return "同一张照片已作为本次检查另一检查项的证据（" + strings.Join(others, "、") + "）"
	case "near_duplicate":
		if _, ok := v["county"]; !ok {
			return fmt.Sprintf("与另一点位拍摄的照片几乎相同（差异 %s）", num(v["distance"]))
		}
		return fmt.Sprintf("与此前在另一点位拍摄的照片几乎相同（差异 %s，%s）", num(v["distance"]), whereRefs([]any{v}))
	case "unreadable":
		// The reason in Chinese (photos.unreadableReason); older photos
		// carry the decoder's English, which is no office's to read.
		if r, _ := v["reason"].(string); strings.ContainsFunc(r, func(c rune) bool { return unicode.Is(unicode.Han, c) }) {
			return "照片文件无法解析为图像（" + r + "）"
		}
		return "照片文件无法解析为图像"

	case server.FlagRefused:
		r, _ := v["reason"].(string)
		if r == "" {
			r, _ = v["code"].(string)
		}
		switch code, _ := v["code"].(string); code {
		case syncproto.CodeInvalidUpload, syncproto.CodeUnsupportedMediaType:
			// The record's declared type or size, not the file, was wrong:
			// the phone may correct the record and send the file again
			// (sync.md 10.4). Said for the office: the phone's message
			// names the API's fields.
			r = "手机为照片声明的文件大小或类型与上传的文件不符"
			if code == syncproto.CodeUnsupportedMediaType {
				r = "手机声明的文件类型不是 JPEG、PNG 或 HEIC 照片"
			}
			return "照片文件被服务器拒收（" + r + "）：手机改正照片记录后可重新上传；否则请联系巡查员说明"
		}
		return "照片文件被服务器拒收，手机不会再上传（" + r + "）：请联系巡查员重新拍摄或说明"

	case "signature_invalid":
		s, _ := v["status"].(string)
		r, _ := v["reason"].(string)
		return CaptureText(s, r)
	}
	return name
}

// whereRefs says in which counties the referred photos are: 本区县, or
// 其他区县 (refs name no other county's photo).
func whereRefs(refs any) string {
	list, _ := refs.([]any)
	same, other := false, false
	for _, r := range list {
		m, _ := r.(map[string]any)
		if _, ok := m["photo_id"]; ok {
			same = true
		} else {
			other = true
		}
	}
	switch {
	case same && other:
		return "本区县及其他区县"
	case other:
		return "其他区县"
	}
	return "本区县"
}

// FlagNames are the evidence flags the review queue filters on, after
// server.AnyFlag (any of them).
var FlagNames = []string{server.AnyFlag, "no_gps", "far_from_site", "time_mismatch", "position_mismatch", "mock_location", "edited", "duplicate", "duplicate_item", "near_duplicate", "unreadable", "signature_invalid", server.FlagRefused}

type flagOption struct{ Name, Title string }

var flagOptions = []flagOption{{server.AnyFlag, "任一标记"}, {"no_gps", "无定位"}, {"far_from_site", "远离点位"}, {"time_mismatch", "时间不符"}, {"position_mismatch", "位置不符"},
	{"mock_location", "疑似虚拟定位"}, {"edited", "经过编辑"}, {"duplicate", "重复照片"}, {"duplicate_item", "一照多项"}, {"near_duplicate", "近似重复"}, {"unreadable", "无法读取"}, {"signature_invalid", "签名无效"}, {server.FlagRefused, "文件被拒收"}}
