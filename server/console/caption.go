package console

import (
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// An export's caption says which filter made it (区县, 期间, 状态, …), so
// that a sheet sent up or printed says what it counts. It follows the
// sheet's title: "审核队列导出（区县：忻府区；期间：2026-11-01 至
// 2026-11-30）".

// caption joins the filter's parts that are set, each "label：value".
func caption(parts ...[2]string) string {
	var out []string
	for _, p := range parts {
		if p[1] != "" {
			out = append(out, p[0]+"："+p[1])
		}
	}
	return strings.Join(out, "；")
}

// withFilter is title with the filter that made what it names (a
// caption) said after it, in one parenthesis: "信息报送（2026-11；区县：忻府区）".
func withFilter(title, filter string) string {
	if filter == "" {
		return title
	}
	if t, ok := strings.CutSuffix(title, "）"); ok {
		return t + "；" + filter + "）"
	}
	return title + "（" + filter + "）"
}

// period says a period of dates, either end open.
func period(from, to string) string {
	switch {
	case from != "" && to != "":
		return from + " 至 " + to
	case from != "":
		return from + " 起"
	case to != "":
		return "截至 " + to
	}
	return ""
}

// yes is label when on, else "".
func yes(on bool, label string) string {
	if on {
		return label
	}
	return ""
}

// inspectionCaption says the queue's filter (its exports'), task being
// the rectification task it selects the evidence of, if any.
func (c *Console) inspectionCaption(q server.InspectionQuery, task *server.StoredRecord) string {
	status := "全部"
	if q.Status != "" {
		status = statusNames[q.Status]
	}
	var complete, flag, county, taskName, template string
	for _, o := range completenessOptions {
		if o.Value == q.Completeness {
			complete = o.Label
		}
	}
	for _, o := range flagOptions {
		if o.Name == q.Flag {
			flag = o.Title
		}
	}
	if q.County != "" {
		county = c.countyName(q.County)
	}
	if q.TemplateID != "" {
		template = c.templateTitle(q.TemplateID)
	}
	if task != nil {
		taskName = task.Text("number")
	}
	return caption([2]string{"整改任务", taskName}, [2]string{"区县", county}, [2]string{"检查表", template},
		[2]string{"检查状态", status}, [2]string{"完整性", complete}, [2]string{"证据标记", flag}, [2]string{"期间", period(q.From, q.To)})
}

// vehicleCaption says the roadside records' filter.
func (c *Console) vehicleCaption(ec echo.Context, q server.VehicleQuery) string {
	county, checkpoint, campaign := "", q.Checkpoint, q.Campaign
	if q.County != "" {
		county = c.countyName(q.County)
	}
	plate, plateLabel := q.Plate, "号牌"
	if q.Partial {
		plateLabel = "号牌或识别代号"
		// The list matched a part of the name: say so, as the page does.
		if checkpoint != "" {
			checkpoint = "含“" + checkpoint + "”"
		}
		if plate != "" {
			plate = "含“" + plate + "”"
		}
	}
	if q.NoCheckpoint {
		checkpoint = "未填检查站"
	}
	if q.NoCampaign {
		campaign = noCampaign
	}
	return caption([2]string{"区县", county}, [2]string{"检查站", checkpoint}, [2]string{"专项行动", campaign},
		[2]string{plateLabel, plate}, [2]string{"排放阶段", yes(q.G6 && !q.Removed, "只看国六")}, [2]string{"后处理", yes(q.Removed, "只看拆除")},
		[2]string{"处理", yes(q.Action != "", syncproto.Label(syncproto.VehicleActions, q.Action))},
		[2]string{"作废", yes(q.Voided == server.OnlyVoided, "只看已作废（不计入统计）")},
		[2]string{"期间", period(ec.QueryParam("from"), ec.QueryParam("to"))})
}

// ledgerCaption says the ledger's filter.
func (c *Console) ledgerCaption(f ledgerFilter) string {
	county, status := "", ""
	if f.County != "" {
		county = c.countyName(f.County)
	}
	if f.Status != "" {
		status = server.TaskStatusLabel(f.Status)
	}
	return caption([2]string{"区县", county}, [2]string{"状态", status}, [2]string{"逾期", yes(f.Overdue, "只看逾期")})
}
