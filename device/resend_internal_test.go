package device

import (
	"encoding/json"
	"testing"
)

// TestCarryRequired: a record the server lacks, sent again as several
// writes, is created by the earliest, which carries the required fields
// written again later (a finding's description); other fields, the status
// above all, keep their own write.
func TestCarryRequired(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(`"` + s + `"`) }
	byHLC := map[string]map[string]json.RawMessage{
		"001-a": {"inspection_id": raw("i"), "severity": raw("major")},
		"002-a": {"description": raw("改过的描述")},
		"003-a": {"status": raw("rectified")},
	}
	carryRequired("finding", byHLC)
	first := byHLC["001-a"]
	if string(first["description"]) != `"改过的描述"` {
		t.Errorf("the creation lacks the description written later: %s", first)
	}
	if _, moved := first["status"]; moved {
		t.Errorf("the status moved to the creation: %s", first)
	}
	if string(byHLC["002-a"]["description"]) != `"改过的描述"` || len(byHLC["003-a"]) != 1 {
		t.Errorf("the later writes changed: %v", byHLC)
	}
	one := map[string]map[string]json.RawMessage{"001-a": {"status": raw("open")}}
	carryRequired("finding", one)
	if len(one["001-a"]) != 1 {
		t.Errorf("a single write changed: %v", one)
	}
}
