package server

import "github.com/xinzhou-eco/fieldsync/syncproto"

// FieldLabels names the records' fields as people read them — the
// console's history and conflict log, and a refusal's message
// (FieldSaid): every field of every entity (the console's
// TestHistoryLabelsEveryField checks it).
var FieldLabels = map[string]string{
	// inspection
	"site_id": "点位", "template_id": "检查表", "template_version": "检查表版本", "started_at": "开始时间", "finished_at": "结束时间",
	"status": "状态", "summary": "检查摘要", "lon": "经度", "lat": "纬度", "answers": "答案",
	"reviewer_id": "审核人", "review_comment": "审核意见", "reviewed_at": "审核时间",
	"missing_items": "缺项", "unknown_answers": "检查表外的答案", "failed_items": "不合格项",
	// finding
	"inspection_id": "所属检查", "item_key": "检查项", "description": "问题描述", "severity": "严重程度", "deadline": "整改时限",
	"rectification_note": "整改说明", "verifier_id": "核实人", "verify_comment": "督查整改意见", "verified_at": "核实时间", "rectified_at": "整改完成时间", "rectified_received_at": "整改报告送达时间", "rectified_by": "整改报告人",
	// photo
	"finding_id": "所属问题", "vehicle_check_id": "所属路检记录", "sha256": "照片哈希", "content_type": "文件类型",
	"size_bytes": "文件大小", "captured_at": "拍摄时间", "accuracy_m": "定位精度（米）", "crs": "坐标系", "caption": "照片说明",
	"uploaded": "已上传", "flags": "证据标记", "notes": "提示", "exif": "EXIF 信息", "lon_wgs84": "经度（WGS-84）",
	"lat_wgs84": "纬度（WGS-84）", "phash": "感知哈希", "width": "宽（像素）", "height": "高（像素）", "processed_at": "处理时间",
	syncproto.FieldCaptureSig: "拍摄签名", syncproto.FieldCaptureKeyID: "签名密钥", syncproto.FieldCapture: "拍摄签名核验",
	// roadside check (and a site's note)
	"county": "区县", "checkpoint": "检查站", "campaign": "专项行动", "plate": "号牌号码", "plate_color": "号牌颜色",
	"plate_type": "号牌种类", "vin": "车辆识别代号（VIN）", "emission_stage": "排放阶段", "fuel": "燃料", "obd_mil": "OBD 故障灯",
	"obd_codes": "OBD 故障码", "aftertreatment": "后处理装置", "urea_level_pct": "尿素液位（%）", "ringelmann": "林格曼黑度",
	"opacity": "不透光烟度（m⁻¹）", "remote_sensing_id": "遥感检测编号", "action": "处理", "checked_at": "检查时间", "note": "备注",
	"voided_at": "作废时间", "voided_by": "作废人", "void_reason": "作废原因", "restore_reason": "恢复原因",
	// site
	"kind": "点位类型", "name": "名称", "address": "地址", "radius_m": "范围半径（米）", "active": "启用",
	// review, and a deletion
	"decision": "审核决定", "comment": "审核意见", "reviewer_name": "审核人姓名", "decided_at": "审核时间", "deleted": "删除",
}

// FieldSaid names a record's field in a message people read, to be
// followed by Chinese text: its label and, for a developer, its wire name
// — “尿素液位（%）”（urea_level_pct）. A name without a label (a member of
// a map: answers.fence) is said as "字段 answers.fence ", with a space
// after it.
func FieldSaid(name string) string {
	if l := FieldLabels[name]; l != "" {
		return "“" + l + "”（" + name + "）"
	}
	return "字段 " + name + " "
}
