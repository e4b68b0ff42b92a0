package syncproto

// Choice is one value of an enumerated field: the code sent on the wire
// and stored, always lower-case ASCII snake_case, and the Chinese label
// people read (on the phone, in the console, in reports). Programs compare
// codes; screens show labels.
type Choice struct {
	Code, Label string
}

// Codes of vehicle_check values that rules depend on.
const (
	StageCN5              = "cn5"         // emission_stage 国五
	StageCN6              = "cn6"         // emission_stage 国六
	AftertreatmentRemoved = "removed"     // aftertreatment 已拆除
	FuelNaturalGas        = "natural_gas" // fuel 天然气: the plan's 国六重型燃气车
)

// The vocabularies of vehicle_check (路检路查), the same codes as the
// roadside_truck checklist's options. Until issue 10, emission_stage, fuel
// and action took the Chinese labels themselves as values; the server
// still accepts those labels and stores the code (deprecated).
var (
	EmissionStages = []Choice{{"cn3", "国三"}, {"cn4", "国四"}, {StageCN5, "国五"}, {StageCN6, "国六"}}
	Fuels          = []Choice{{"diesel", "柴油"}, {"natural_gas", "天然气"}, {"gasoline", "汽油"}, {"other", "其他"}}
	// Aftertreatments are the states of the after-treatment device
	// (三元催化器 TWC, SCR, DPF).
	Aftertreatments = []Choice{{"present", "完好"}, {AftertreatmentRemoved, "已拆除"}, {"damaged", "损坏"}, {"unknown", "未查明"}}
	VehicleActions  = []Choice{{"fine", "处罚"}, {"repair", "责令维修"}, {"release", "放行"}}
)

// SiteKinds are the kinds of site (site.kind) with their labels.
var SiteKinds = []Choice{
	{"construction_site", "建筑工地"}, {"coal_yard", "煤炭集运站和料场"}, {"coal_ban_village", "禁煤区村庄"},
	{"coal_boiler", "燃煤锅炉"}, {"sewage_plant", "污水处理厂"}, {"factory", "工业企业"}, {"checkpoint", "路检点"},
	{"mine", "矿山"}, {"road", "道路"},
}

// EvidenceFlags are the evidence flags the server raises on photos
// (photo.flags, sync.md 10.7), labelled as an inspector reads them.
var EvidenceFlags = []Choice{
	{"no_gps", "无 GPS 位置"}, {"far_from_site", "远离点位"}, {"time_mismatch", "拍摄时间存疑"},
	{"position_mismatch", "照片位置与定位不符"}, {"mock_location", "疑似虚拟定位"}, {"edited", "经过编辑软件处理"},
	{"duplicate", "与其他记录重复"}, {"duplicate_item", "同一照片用于多个检查项"}, {"near_duplicate", "与其他点位照片近似"},
	{"unreadable", "无法读取"}, {"signature_invalid", "拍摄签名无效"}, {"refused", "文件被服务器拒收，需重拍"},
}

// Statuses of a county's progress on a rectification task
// (task_progress.status), in order.
const (
	TaskNotStarted = "not_started"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
	// TaskAccepted is the acceptance unit's (the city's) confirmation.
	TaskAccepted = "accepted"
)

// TaskStatuses are the statuses of task_progress.status with their labels.
var TaskStatuses = []Choice{{TaskNotStarted, "未开始"}, {TaskInProgress, "推进中"}, {TaskDone, "已完成"}, {TaskAccepted, "已验收"}}

// Codes returns the codes of choices, in order.
func Codes(choices []Choice) []string {
	out := make([]string, len(choices))
	for i, c := range choices {
		out[i] = c.Code
	}
	return out
}

// Label returns the label of code among choices, or code itself when it is
// not one of them.
func Label(choices []Choice, code string) string {
	for _, c := range choices {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}
