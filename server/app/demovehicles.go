package app

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The plan's two roadside actions, seeded by --demo as vehicle_check
// records at the checkpoints where they were made, each filed under the
// county the checkpoint is in, so that the console's statistics show the
// plan's figures (DOMAIN.md, "Roadside heavy-truck checks"):
//
//   - At the 豆罗 and 秦城 checkpoints, towns of 忻府区, one joint action:
//     359 trucks, 国五 179 and 国六 181, of which 22 国六 had the catalyst
//     removed (12%). The plan gives 22% for 豆罗 alone, so 豆罗 gets 11 of
//     50 国六 (22.0%) and 秦城 the other 11 of 131. Both checkpoints'
//     records carry the same campaign, so the console sums them as one
//     action: 22 of 181 国六, 12.2%.
//     The plan's 国五 179 + 国六 181 make 360, not the 359 it states; the
//     seed keeps the total (359) and the 国六 figures the rate rests on,
//     so it has 国五 178 (豆罗 79, 秦城 99). seeds/README.md says so too.
//   - The 7-day action on gas trucks: 549 checked, 国五 238 and 国六 311,
//     41 国六 tampered (13.2%). The plan names no checkpoint for it (the
//     city ran it); it is spread over checkpoints on the through-roads the
//     plan names — G108 in 代县 and 原平市, G337 in 定襄县, S249 in 保德县
//     (the plan: "G108 国道、G337 国道，距代县、定襄县监测点位都在 2 公里范围内",
//     "249 省道距保德县工商局监测点位直线距离只有 270 米") — keeping the
//     plan's totals across them.
//
// Every record is generated, with a fixed id derived from its key and
// number, so loading the demo twice writes nothing new. Values are codes
// (cn6 for 国六, natural_gas for 天然气; syncproto's vocabularies).
type demoAction struct {
	key         string // names the action's records' ids; never changes
	checkpoint  string // the checkpoint, as the demo site is named
	campaign    string
	county      string
	g5, g6, bad int // 国五 trucks, 国六 trucks, 国六 with after-treatment removed
	day         string
	days        int // the action's length
	plate0      int
	lon, lat    float64 // the checkpoint's demo site (seeds/demo.json)
}

// The campaigns of the plan's two actions.
const (
	demoJointAction = "豆罗、秦城检查站联合路检"
	demoSevenDays   = "燃气货车七日专项行动"
)

var demoActions = []demoAction{
	{key: "豆罗检查站", checkpoint: "豆罗检查站", campaign: demoJointAction, county: "140902", g5: 79, g6: 50, bad: 11, day: "2022-06-14", days: 1, plate0: 10000, lon: 112.712, lat: 38.535},
	{key: "秦城检查站", checkpoint: "秦城检查站", campaign: demoJointAction, county: "140902", g5: 99, g6: 131, bad: 11, day: "2022-06-15", days: 1, plate0: 20000, lon: 112.655, lat: 38.495},
	// 549 = 140 + 150 + 129 + 130; 国五 238 = 60 + 65 + 56 + 57;
	// 国六 311 = 80 + 85 + 73 + 73; tampered 41 = 11 + 11 + 10 + 9.
	{key: "七日专项行动/代县G108", checkpoint: "代县G108国道过境段检查点", campaign: demoSevenDays, county: "140923", g5: 60, g6: 80, bad: 11, day: "2022-07-01", days: 7, plate0: 30000, lon: 112.93, lat: 39.06},
	{key: "七日专项行动/原平G108", checkpoint: "原平市G108国道检查点", campaign: demoSevenDays, county: "140981", g5: 65, g6: 85, bad: 11, day: "2022-07-01", days: 7, plate0: 31000, lon: 112.72, lat: 38.76},
	{key: "七日专项行动/定襄G337", checkpoint: "定襄县G337国道检查点", campaign: demoSevenDays, county: "140921", g5: 56, g6: 73, bad: 10, day: "2022-07-01", days: 7, plate0: 32000, lon: 112.99, lat: 38.47},
	{key: "七日专项行动/保德S249", checkpoint: "保德县S249省道检查点", campaign: demoSevenDays, county: "140931", g5: 57, g6: 73, bad: 9, day: "2022-07-01", days: 7, plate0: 33000, lon: 111.105, lat: 39.035},
}

// vehicleValue is the one place the demo's roadside records get the values
// of vehicle_check's enumerated fields (emission_stage, fuel,
// aftertreatment, action) and of plate_color: the demo writes the plan's
// terms (国五, 天然气, 处罚, 黄, …) or codes, and this returns the codes
// the entity stores for them (server/entity.go: labels and aliases);
// free-text fields such as plate_color keep the term.
func vehicleValue(field, term string) string {
	if f, _ := server.EntityByName(syncproto.EntityVehicleCheck).Field(field); f != nil {
		if code, ok := f.Code(term); ok {
			return code
		}
	}
	return term
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
		start, _ := time.ParseInLocation(time.DateOnly, a.day, chinaTime)
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
			// Spread the checks over the action's days, two minutes
			// apart within a day.
			at := start.AddDate(0, 0, i%a.days).Add(time.Duration(i/a.days*2) * time.Minute)
			v := vehicleValue
			out = append(out, demoVehicle{
				id:     uuid.NewSHA1(demoVehicleNS, fmt.Appendf(nil, "%s#%d", a.key, i)).String(),
				county: a.county,
				values: map[string]any{
					"county": a.county, "checkpoint": a.checkpoint, "campaign": a.campaign, "plate": fmt.Sprintf("晋H%05d", a.plate0+i),
					"plate_color": v("plate_color", "黄"), "plate_type": "大型汽车", "emission_stage": v("emission_stage", stage),
					"fuel": v("fuel", "天然气"), "aftertreatment": v("aftertreatment", after), "action": v("action", action),
					"checked_at": at.Format(time.RFC3339), "lon": a.lon, "lat": a.lat, "note": "演示数据：按整改方案路检路查数字生成",
				},
			})
		}
	}
	return out
}

// chinaTime is China Standard Time, the zone the demo's local times are in.
var chinaTime = server.ChinaTime
