package app

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The plan's two roadside actions, seeded by --demo as vehicle_check
// records so that the console's statistics show the plan's figures
// (DOMAIN.md, "Roadside heavy-truck checks"):
//
//   - At the 豆罗 and 秦城 checkpoints (忻府区), one joint action: 359
//     trucks, 国五 179 and 国六 181, of which 22 国六 had the catalyst
//     removed (12%). The plan gives 22% for 豆罗 alone, so 豆罗 gets 11 of
//     50 国六 (22.0%) and 秦城 the other 11 of 131. Both checkpoints' records
//     carry the same campaign, so the console sums them as one action:
//     22 of 181 国六, 12.2%.
//     The plan's 国五 179 + 国六 181 make 360, not the 359 it states; the
//     seed keeps the total (359) and the 国六 figures the rate rests on,
//     so it has 国五 178 (豆罗 79, 秦城 99).
//   - The 7-day action on gas trucks: 549 checked, 国五 238 and 国六 311,
//     41 国六 tampered (13.2%). The plan names no checkpoint or county for
//     it; it is filed in 忻府区 (140902) at a mobile checkpoint (流动检查)
//     under its own campaign.
//
// Every record is generated, with a fixed id derived from its key and
// number, so loading the demo twice writes nothing new. Values are codes
// (cn6 for 国六, natural_gas for 天然气; syncproto's vocabularies).
type demoAction struct {
	key         string // names the action's records' ids; never changes
	checkpoint  string
	campaign    string
	county      string
	g5, g6, bad int // 国五 trucks, 国六 trucks, 国六 with after-treatment removed
	day         string
	plate0      int
	lon, lat    float64
}

// The campaigns of the plan's two actions.
const (
	demoJointAction = "豆罗、秦城检查站联合路检"
	demoSevenDays   = "燃气货车七日专项行动"
)

var demoActions = []demoAction{
	{key: "豆罗检查站", checkpoint: "豆罗检查站", campaign: demoJointAction, county: "140902", g5: 79, g6: 50, bad: 11, day: "2022-06-14", plate0: 10000, lon: 112.70, lat: 38.55},
	{key: "秦城检查站", checkpoint: "秦城检查站", campaign: demoJointAction, county: "140902", g5: 99, g6: 131, bad: 11, day: "2022-06-15", plate0: 20000, lon: 112.78, lat: 38.37},
	{key: "七日专项行动", checkpoint: "流动检查", campaign: demoSevenDays, county: "140902", g5: 238, g6: 311, bad: 41, day: "2022-07-01", plate0: 30000, lon: 112.73, lat: 38.42},
}

// demoVehicleNS is the namespace of the demo vehicle checks' ids.
var demoVehicleNS = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/xinzhou-eco/fieldsync/demo/vehicle_check"))

type demoVehicle struct {
	id, county string
	values     map[string]any
}

// demoVehicleChecks generates the records of demoActions.
func demoVehicleChecks() []demoVehicle {
	var out []demoVehicle
	for _, a := range demoActions {
		start, _ := time.ParseInLocation(time.DateOnly, a.day, time.FixedZone("CST", 8*3600))
		start = start.Add(8 * time.Hour)
		n := a.g5 + a.g6
		for i := range n {
			stage, after, action := "cn5", "present", "release" // 国五, 完好, 放行
			if i >= a.g5 {
				stage = syncproto.StageCN6
				if i-a.g5 < a.bad {
					after, action = syncproto.AftertreatmentRemoved, "fine" // 处罚
				}
			}
			// Spread the checks over the action's days (7 for the 7-day
			// action, 1 otherwise), two minutes apart within a day.
			days := 1
			if n > 500 {
				days = 7
			}
			at := start.AddDate(0, 0, i%days).Add(time.Duration(i/days*2) * time.Minute)
			out = append(out, demoVehicle{
				id:     uuid.NewSHA1(demoVehicleNS, fmt.Appendf(nil, "%s#%d", a.key, i)).String(),
				county: a.county,
				values: map[string]any{
					"county": a.county, "checkpoint": a.checkpoint, "campaign": a.campaign, "plate": fmt.Sprintf("晋H%05d", a.plate0+i),
					"plate_color": "黄", "plate_type": "大型汽车", "emission_stage": stage, "fuel": "natural_gas",
					"aftertreatment": after, "action": action, "checked_at": at.Format(time.RFC3339),
					"lon": a.lon, "lat": a.lat, "note": "演示数据：按整改方案路检路查数字生成",
				},
			})
		}
	}
	return out
}
