package app

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The checklist answers of the demo's visits, encoded as sync.md section 9
// says (check: pass/fail/na, with a note when failed; choice: the option's
// value; numbers in the item's unit), and the findings failed items raise.

// demoFailNotes are what an inspector writes under a failed item, by key;
// other items get demoFailNote.
var demoFailNotes = map[string][]string{
	"fence":                     {"北侧围挡缺失约20米", "围挡高度不足1.8米"},
	"material_cover":            {"东侧料堆裸露", "砂石料未苫盖"},
	"road_paving":               {"施工便道未硬化", "出口道路泥土裸露"},
	"wet_operation":             {"土方作业未洒水", "雾炮未开启"},
	"vehicle_washing":           {"冲洗设备长期未用", "出场车辆带泥上路"},
	"muck_enclosed":             {"渣土车未密闭", "渣土车苫盖不严"},
	"online_monitor":            {"在线监测设备未联网"},
	"video_monitor":             {"视频监控离线"},
	"closed_shed":               {"料棚未建成", "料棚西侧未封闭"},
	"shed_doors_closed":         {"料棚大门敞开"},
	"no_open_piles":             {"场外露天堆煤约200吨", "南侧有露天煤堆"},
	"floor_paved":               {"场地积尘严重"},
	"dust_suppression":          {"干雾抑尘设施未运行"},
	"exit_vehicle_wash":         {"洗车设施故障"},
	"trucks_covered":            {"运煤车辆未苫盖"},
	"no_coal_sale":              {"小卖部销售散煤"},
	"no_coal_use":               {"村民院内堆放散煤"},
	"no_household_coal_burning": {"该户使用燃煤取暖"},
	"no_shop_coal_stove":        {"沿街门店使用燃煤小火炉"},
	"heating_equipment_running": {"空气源热泵故障停用"},
	"boiler_retired":            {"锅炉仍在使用", "锅炉未拆除"},
	"no_coal_stock":             {"锅炉房存煤约5吨"},
	"no_overflow":               {"溢流口有污水直排入河", "检查井溢流"},
	"effluent_compliant":        {"出水氨氮超标"},
	"online_monitor_running":    {"在线监测数据中断"},
	"one_plant_sign":            {"未设置“一厂一策”公示牌"},
	"production_ledger":         {"生产台账记录不全"},
	"abatement_running":         {"除尘设施未运行"},
	"cut_implemented":           {"预警期间未按要求限产", "停产期间竖炉仍在生产"},
	"twc_present":               {"三元催化器已拆除"},
	"obd_mil_off":               {"OBD故障灯常亮"},
	"smoke_compliant":           {"排气可见黑烟"},
	"phaseout_done":             {"列入淘汰名单的竖炉仍在生产"},
	"ultra_low_done":            {"超低排放改造未完工"},
	"emission_compliant":        {"氮氧化物小时均值超过50 mg/m³"},
	"materials_enclosed":        {"铁精粉露天堆存"},
	"conveying_enclosed":        {"皮带通廊未封闭"},
	"roads_clean":               {"厂区道路积尘"},
	"approvals_complete":        {"未取得环评批复"},
	"work_stopped":              {"责令停工后仍在施工"},
	"fire_extinguished":         {"治理区测温点温度偏高，有复燃迹象"},
	"no_illegal_mining":         {"治理区有新的采掘痕迹和外运煤炭"},
	"exposed_area_restored":     {"开挖区大面积裸露未复绿"},
	"dump_slopes_treated":       {"排矸场边坡裸露沙土"},
	"surface_clean":             {"路面积尘明显，车过扬尘"},
	"verges_covered":            {"路肩裸土未覆盖"},
	"no_spillage":               {"路面有渣土抛洒"},
	"no_dumping":                {"路边倾倒建筑垃圾"},
	"method_compliant":          {"东侧火点仍采用露天剥挖"},
	"enforced":                  {"未下达责令停止建设决定"},
}

const demoFailNote = "现场检查不符合要求"

// demoNumbers are the ranges numbers are drawn from, by item key; other
// number items use their own min and max (or 0–100).
var demoNumbers = map[string][2]float64{
	"pm10_reading": {45, 320}, "tonnage": {2, 20}, "stock_tonnage": {300, 8000}, "stored_coal_kg": {0, 0},
	"overflow_estimate": {0, 0}, "design_capacity": {20000, 60000}, "effluent_cod": {12, 45}, "effluent_nh3n": {0.3, 4.5},
	"daily_power_kwh": {18000, 160000}, "lines_total": {1, 4}, "required_cut_pct": {30, 50},
	"urea_level": {10, 90}, "ringelmann": {0, 1}, "opacity": {0.1, 0.7}, "daily_inflow": {15000, 52000},
	"baseline_power_kwh": {40000, 160000}, "lines_running": {0, 2},
	"furnace_area": {8, 16}, "pm_mg_m3": {3, 9}, "so2_mg_m3": {10, 33}, "nox_mg_m3": {20, 48},
	"penalty_amount": {20, 140}, "fire_points_planned": {7, 7}, "fire_points_burning": {0, 0},
	"revegetated_area": {50, 600}, "monthly_volume": {3000, 20000},
}

// demoVillages are villages of coal-ban zones, by county.
var demoVillages = map[string][]string{
	"140902": {"秦城村", "豆罗村", "解原村"}, "140921": {"智村", "谭村", "宏道村"}, "140923": {"上馆村", "阳明堡村"},
	"140925": {"凤凰村", "东寨村"}, "140929": {"岚漪村", "宋家沟村"}, "140931": {"东关村", "桥头村"}, "140981": {"崞阳村", "大牛店村"},
}

var demoSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "郭", "高"}
var demoGivenNames = []string{"建国", "秀英", "永明", "桂兰", "志强", "海燕", "文斌", "玉梅", "俊峰", "春生"}

// planAnswers fills v's answers, summary, findings and (at a checkpoint)
// the truck's record. Half the visits find nothing wrong; at the others
// each check item fails with some chance. A draft has only its first
// items answered; an incomplete submission leaves required items out.
func planAnswers(rng *rand.Rand, v *demoVisit) {
	v.answers = map[string]any{}
	failRate := 0
	if rng.IntN(2) == 0 {
		failRate = 14
	}
	truck := planTruck(rng, v)
	items := v.tmpl.Items
	if !v.submitted {
		items = items[:len(items)/2]
	}
	skipped := 0
	for _, it := range items {
		if v.incomplete && it.Required && skipped < 3 && rng.IntN(3) == 0 {
			skipped++
			continue
		}
		if !it.Required && rng.IntN(3) > 0 {
			continue // optional items are mostly left empty
		}
		if fact, ok := v.site.facts[it.Key]; ok {
			// What the place is, the same at every visit (a fact never
			// fails: seeds.Site.Facts); null leaves the item unanswered.
			var a any
			if err := json.Unmarshal(fact, &a); err == nil && a != nil {
				v.answers[it.Key] = a
			}
			continue
		}
		val, failed := demoAnswer(rng, v, it, failRate, truck)
		v.answers[it.Key] = canonicalAnswer(it, val)
		if failed && it.FindingOnFail {
			v.findings = append(v.findings, planFinding(rng, v, it, val))
		}
	}
	if v.incomplete && skipped == 0 {
		for _, it := range items {
			if it.Required {
				delete(v.answers, it.Key)
				break
			}
		}
	}
	v.summary = fmt.Sprintf("%s：检查 %d 项，发现问题 %d 个。", v.tmpl.Title, len(v.answers), len(v.findings))
	if len(v.findings) == 0 {
		v.summary = fmt.Sprintf("%s：检查 %d 项，未发现问题。", v.tmpl.Title, len(v.answers))
	}
}

// demoTruck is the heavy truck a roadside visit checks.
type demoTruck struct {
	plate, vin string
	gas, cn6   bool
	tampered   bool
}

// planTruck picks the truck of a roadside visit and plans its
// vehicle_check record (nil at any other site).
func planTruck(rng *rand.Rand, v *demoVisit) *demoTruck {
	if v.tmpl.ID != "roadside_truck" {
		return nil
	}
	t := &demoTruck{plate: fmt.Sprintf("晋H%05d", 50000+rng.IntN(49999)), vin: fmt.Sprintf("LZGJLM844%08d", rng.IntN(1e8)),
		gas: rng.IntN(3) > 0, cn6: rng.IntN(2) == 0}
	t.tampered = t.gas && t.cn6 && rng.IntN(6) == 0
	if !v.submitted {
		return t // a draft's truck record is not kept yet
	}
	stage, fuel, after, action := "国五", "柴油", "present", "放行"
	if t.cn6 {
		stage = "国六"
	}
	if t.gas {
		fuel = "天然气"
	}
	if t.tampered {
		after, action = "removed", "处罚"
	}
	f := vehicleValue
	v.vehicleID = demoID("vehicle_check", v.id)
	v.vehicle = map[string]any{
		"county": v.site.county, "checkpoint": v.site.name, "plate": t.plate, "plate_color": f("plate_color", "黄"),
		"plate_type": "大型汽车", "vin": t.vin, "emission_stage": f("emission_stage", stage), "fuel": f("fuel", fuel),
		"aftertreatment": f("aftertreatment", after), "action": f("action", action), "obd_mil": false,
		"checked_at": v.start.Add(10 * time.Minute).Format(time.RFC3339), "lon": v.site.at.Lon, "lat": v.site.at.Lat,
		"note": "日常路检（演示数据）",
	}
	return t
}

// demoAnswer answers one item, and says whether the answer is a failure.
func demoAnswer(rng *rand.Rand, v *demoVisit, it seeds.Item, failRate int, truck *demoTruck) (any, bool) {
	if truck != nil {
		if a, failed, ok := truckAnswer(v, it, truck); ok {
			return a, failed
		}
	}
	switch it.Type {
	case seeds.ItemTypeCheck:
		if failRate > 0 && rng.IntN(100) < failRate {
			return failed(rng, it.Key), true
		}
		if !it.Required && rng.IntN(2) == 0 {
			return "na", false
		}
		return "pass", false
	case seeds.ItemTypeBoolean:
		return rng.IntN(3) == 0, false
	case seeds.ItemTypeNumber:
		r, ok := demoNumbers[it.Key]
		if !ok {
			r = [2]float64{0, 100}
			if it.Min != nil {
				r[0] = *it.Min
			}
			if it.Max != nil && *it.Max < 1e6 {
				r[1] = *it.Max
			}
		}
		return math.Round((r[0]+rng.Float64()*(r[1]-r[0]))*10) / 10, false
	case seeds.ItemTypeChoice:
		// An option that describes a violation (fails) and raises its own
		// finding is chosen as often as a check item fails; otherwise the
		// first option is the usual answer in these checklists. One that
		// raises none (锅炉现状 仍在燃煤) is left out: the check item that
		// is the verdict would have to fail with it, and the demo's checks
		// fail one by one.
		var ok, bad []string
		for _, o := range it.Options {
			if o.Fails {
				bad = append(bad, o.Value)
			} else {
				ok = append(ok, o.Value)
			}
		}
		if len(bad) > 0 && it.FindingOnFail && failRate > 0 && rng.IntN(100) < failRate {
			return bad[rng.IntN(len(bad))], true
		}
		if rng.IntN(3) > 0 {
			return ok[0], false
		}
		return ok[rng.IntN(len(ok))], false
	}
	return demoText(rng, v, it.Key), false
}

// canonicalAnswer is an answer in the form answers.schema.json gives it,
// as the field app writes it: a check item's result and any other item's
// value in an object, 不适用 as result na. (The server also reads bare
// values, as an old guide showed them; the demo is no such phone.)
func canonicalAnswer(it seeds.Item, val any) any {
	switch v := val.(type) {
	case map[string]any:
		return v
	case string:
		if it.Type == seeds.ItemTypeCheck || v == "na" {
			return map[string]any{"result": v}
		}
	}
	return map[string]any{"value": val}
}

// failed is a failed check answer with a note.
func failed(rng *rand.Rand, key string) map[string]any {
	note := demoFailNote
	if ns := demoFailNotes[key]; len(ns) > 0 {
		note = ns[rng.IntN(len(ns))]
	}
	return map[string]any{"result": "fail", "note": note}
}

// truckAnswer answers the roadside items that describe the truck.
func truckAnswer(v *demoVisit, it seeds.Item, t *demoTruck) (any, bool, bool) {
	pick := func(yes bool, a, b string) string {
		if yes {
			return a
		}
		return b
	}
	switch it.Key {
	case "checkpoint":
		return v.site.name, false, true
	case "plate":
		return t.plate, false, true
	case "plate_color":
		return "yellow", false, true
	case "plate_type":
		return "01", false, true
	case "vin":
		return t.vin, false, true
	case "emission_stage":
		return pick(t.cn6, "cn6", "cn5"), false, true
	case "fuel":
		return pick(t.gas, "natural_gas", "diesel"), false, true
	case "twc_present": // roadside_truck@1: a check
		if !t.gas {
			return "na", false, true
		}
		if t.tampered {
			return map[string]any{"result": "fail", "note": "三元催化器已拆除"}, true, true
		}
		return "pass", false, true
	case "scr_present", "dpf_present":
		return pick(t.gas, "na", "pass"), false, true
	case "twc": // version 2: what the device is found in
		if !t.gas {
			return "na", false, true
		}
		if t.tampered {
			return map[string]any{"value": "removed", "note": "现场查见排气管改装，催化器壳体已拆除"}, true, true
		}
		return "present", false, true
	case "scr", "dpf":
		return pick(t.gas, "na", "present"), false, true
	case "action":
		return pick(t.tampered, "fine", "release"), false, true
	}
	return nil, false, false
}

// demoText answers a text item.
func demoText(rng *rand.Rand, v *demoVisit, key string) string {
	name := func() string {
		return demoSurnames[rng.IntN(len(demoSurnames))] + demoGivenNames[rng.IntN(len(demoGivenNames))]
	}
	switch key {
	case "household_head":
		return name()
	case "village":
		if vs := demoVillages[v.site.county]; len(vs) > 0 {
			return vs[rng.IntN(len(vs))]
		}
		return "城关村"
	case "boiler_number":
		return fmt.Sprintf("锅炉使用登记证 晋H%04d", rng.IntN(10000))
	case "muck_truck_plates":
		return fmt.Sprintf("晋H%05d、晋H%05d", rng.IntN(100000), rng.IntN(100000))
	case "shop_name":
		return "城关" + name() + "小吃部"
	case "transport_company":
		return "忻州市" + []string{"顺达", "恒通", "晋北"}[rng.IntN(3)] + "物流有限公司"
	case "remote_sensing_id":
		return fmt.Sprintf("YG-%08d", rng.IntN(1e8))
	case "obd_fault_codes":
		return "P20EE"
	case "project_name":
		return v.site.name
	case "penalty_decision_no":
		return fmt.Sprintf("忻环罚〔%d〕%d号", v.start.Year(), 10+rng.IntN(90))
	case "offending_plates":
		return fmt.Sprintf("晋H%05d", rng.IntN(100000))
	}
	return "已向企业负责人反馈，要求立即整改。"
}

// demoSeverities are the findings' severities, by weight.
var demoSeverities = []string{"minor", "minor", "major", "major", "major", "critical"}

// planFinding plans the finding a failed item raises: its deadline is the
// visit's date plus the item's deadline_days (7 if unset), so the older
// open ones are overdue; some were put right on the spot (rectified) and
// some are being put right.
func planFinding(rng *rand.Rand, v *demoVisit, it seeds.Item, answer any) *demoFinding {
	// Described as a phone describes it (sync.md 9.1): the item, 不合格 or
	// the option chosen, the note.
	description := it.Label + "：" + demoFailNote
	if raw, err := json.Marshal(canonicalAnswer(it, answer)); err == nil {
		if a, err := syncproto.ParseAnswer(&it, raw); err == nil {
			description = a.FindingDescription(&it)
		}
	}
	days := it.DeadlineDays
	if days == 0 {
		days = 7
	}
	f := &demoFinding{id: demoID("finding", v.id, it.Key), item: it.Key, description: description,
		severity: demoSeverities[rng.IntN(len(demoSeverities))], deadline: v.start.AddDate(0, 0, days).Format(time.DateOnly),
		status: "open", at: v.start.Add(time.Duration(5+rng.IntN(20)) * time.Minute)}
	switch r := rng.IntN(10); {
	case r < 3:
		f.status, f.note = "rectified", "已当场整改完毕，整改后照片已补拍。"
	case r < 5:
		f.status, f.note = "rectifying", "企业已制定整改方案，正在整改。"
	}
	return f
}
