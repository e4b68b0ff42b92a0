package device

import (
	"fmt"
	"slices"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
)

// fieldNames are the Chinese names of the fields a device checks at entry.
var fieldNames = map[string]string{
	"emission_stage": "排放阶段", "fuel": "燃料", "aftertreatment": "后处理装置", "action": "处理措施",
	"plate_color": "车牌颜色", "severity": "严重程度", "status": "状态", "kind": "类型", "crs": "坐标系",
}

// EnumCode checks value against the values a device may write to field of
// entity, as the server's entity catalog (server.Entities) lists them —
// the same list the server checks a push against — so that a value it
// would refuse is refused when it is entered, offline, in Chinese. A
// field's Chinese label (国六) or a former value is accepted for its code
// (cn6), which is what it returns. Fields without a list accept anything.
func EnumCode(entity, field, value string) (string, error) {
	e := server.EntityByName(entity)
	if e == nil {
		return "", fmt.Errorf("未知的数据类型 %q", entity)
	}
	f, _ := e.Field(field)
	if f == nil {
		return "", fmt.Errorf("%s 没有字段 %q", entity, field)
	}
	allowed := f.Enum
	if f.DeviceEnum != nil {
		allowed = f.DeviceEnum
	}
	if allowed == nil {
		return value, nil
	}
	if code, ok := f.Code(value); ok && slices.Contains(allowed, code) {
		return code, nil
	}
	name := fieldNames[field]
	if name == "" {
		name = field
	}
	choices := make([]string, len(allowed))
	for i, c := range allowed {
		if l := f.Label(c); l != c {
			choices[i] = l + "（" + c + "）"
		} else {
			choices[i] = c
		}
	}
	return "", fmt.Errorf("%s不能是 %q，可选：%s", name, value, strings.Join(choices, "、"))
}
