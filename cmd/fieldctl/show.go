package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/xinzhou-eco/fieldsync/device"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// What fieldctl prints is for an inspector: Chinese words, never Go
// values or raw JSON.

var roleNames = map[string]string{"inspector": "巡查员", "county_office": "区县督查", "city_office": "市级督查", "admin": "管理员"}

func roleName(role string) string {
	if n := roleNames[role]; n != "" {
		return n
	}
	return role
}

func siteKind(kind string) string { return syncproto.Label(syncproto.SiteKinds, kind) }

// siteKindCode is the code of a site kind given by its code or its
// Chinese name ("" for any); another word is refused with the choices.
func siteKindCode(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	var choices []string
	for _, c := range syncproto.SiteKinds {
		if s == c.Code || s == c.Label {
			return c.Code, nil
		}
		choices = append(choices, c.Label+"（"+c.Code+"）")
	}
	return "", fmt.Errorf("没有点位类型 %q，可选：%s", s, strings.Join(choices, "、"))
}

var statusNames = map[string]string{"draft": "草稿", "submitted": "已提交，待审核", "returned": "已退回，待修改", "approved": "已审核通过"}

// flagNames shows a photo's flags (a JSON object, one key per flag).
func flagNames(raw json.RawMessage) string {
	var flags map[string]json.RawMessage
	if json.Unmarshal(raw, &flags) != nil {
		return "（无法解析）"
	}
	names := make([]string, 0, len(flags))
	for k := range flags {
		names = append(names, syncproto.Label(syncproto.EvidenceFlags, k))
	}
	sort.Strings(names)
	return strings.Join(names, "、")
}

// itemKind describes an item's type and what it takes, e.g. "数值，µg/m³，0–5000".
func itemKind(it *syncproto.ChecklistItem) string {
	s := syncproto.ItemTypeNames[it.Type]
	if s == "" {
		s = it.Type
	}
	switch it.Type {
	case syncproto.ItemNumber:
		if r := it.Range(); r != "" {
			s += "，" + r
		} else if it.Unit != "" {
			s += "，" + it.Unit
		}
		if l := it.Limit(); l != "" {
			s += "，限值 " + l + "（超过即不合格）"
		}
	case syncproto.ItemChoice:
		s += "：" + it.OptionList()
	}
	return s
}

// printInspection shows an inspection's items: key, type, whether an
// answer and a photo are required, label and current answer; then what
// it lacks and any answer to an item the checklist does not have.
func printInspection(w io.Writer, s *device.InspectionState) {
	t := s.Template
	status := statusNames[s.Status]
	if status == "" {
		status = s.Status
	}
	fmt.Fprintf(w, "检查 %s：%s（%s 第 %d 版），状态：%s\n", s.ID, t.Title, t.TemplateID, t.Version, status)
	if s.Site != "" {
		fmt.Fprintf(w, "点位：%s\n", s.Site)
	}
	if s.ReviewComment != "" && (s.Status == "returned" || s.Status == "approved") {
		fmt.Fprintf(w, "审核意见：%s\n", s.ReviewComment)
	}
	for i := range s.Items {
		it := &s.Items[i]
		var need []string
		if it.Required {
			need = append(need, "必填")
		}
		if it.PhotoRequired {
			need = append(need, "需照片")
		}
		if len(need) == 0 {
			need = append(need, "选填")
		}
		answer := it.Answer
		switch {
		case it.Invalid != "":
			answer = "答案无效：" + it.Invalid
		case answer == "":
			answer = "（未填写）"
		}
		if it.Photos > 0 {
			answer += fmt.Sprintf("，照片 %d 张", it.Photos)
		}
		fmt.Fprintf(w, "  %-24s [%s] %s  %s：%s\n", it.Key, itemKind(&it.ChecklistItem), strings.Join(need, "、"), it.Label, answer)
	}
	for _, k := range s.Unknown {
		fmt.Fprintf(w, "  ⚠ 未知检查项 %s：检查表没有此项，答案保留但不计入\n", k)
	}
	if len(s.Missing) == 0 {
		fmt.Fprintln(w, "检查项完整，可以提交")
		return
	}
	labels := map[string]string{}
	for _, it := range s.Items {
		labels[it.Key] = it.Label
	}
	fmt.Fprintln(w, missingText(&device.IncompleteError{Missing: s.Missing, Labels: labels}))
}

// missingText lists what an inspection lacks, an item a line.
func missingText(e *device.IncompleteError) string {
	keys := syncproto.MissingKeys(e.Missing)
	lines := []string{fmt.Sprintf("检查尚未完成，缺 %d 项：", len(keys))}
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("  %-24s %s：%s", k, e.Labels[k], strings.Join(e.Reasons(k), "、")))
	}
	return strings.Join(lines, "\n")
}
