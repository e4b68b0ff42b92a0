package console

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The monthly report carries the audit log's seal of its month
// (server.Sealer): a sheet of the XLSX, a table of the CSV and the page,
// the seal as JSON, and — for the city, whose scope is every county — the
// month's entries as JSON lines, so that `fieldsync audit verify --export
// … --seal …` checks the month offline.

// sealFile and entriesFile are the download names of a month's seal and
// entries.
func sealFile(month string) string    { return "审计封存-" + month + ".json" }
func entriesFile(month string) string { return "审计记录-" + month + ".jsonl" }

// monthSeal returns the month's seal, sealing it if it is over, or nil
// and a Chinese sentence saying why there is none.
func (c *Console) monthSeal(ec echo.Context, month string) (*audit.Seal, string, error) {
	if c.d.Sealer == nil {
		return nil, "本服务器未配置审计封存", nil
	}
	seal, err := c.d.Sealer.MonthSeal(ec.Request().Context(), month)
	switch server.ErrorCode(err) {
	case "":
		return seal, "", err
	case syncproto.CodeNotReady:
		return nil, "本月尚未结束，月末后一小时自动封存", nil
	case syncproto.CodeNotFound:
		return nil, "该月之前没有审计记录，无需封存", nil
	}
	return nil, "", err
}

// sealTable is the seal as the report's table.
func sealTable(seal *audit.Seal, why string) reportTable {
	t := reportTable{Title: "审计封存", Header: []string{"项目", "内容"}}
	if seal == nil {
		t.Rows = [][]string{{"状态", why}}
		return t
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	t.Rows = [][]string{
		{"月份", seal.Month},
		{"审计记录编号", itoa(seal.FirstSeq) + "–" + itoa(seal.LastSeq)},
	}
	for _, a := range audit.Actions {
		t.Rows = append(t.Rows, []string{auditActionNames[a] + "（条）", strconv.Itoa(seal.Counts[a])})
	}
	t.Rows = append(t.Rows,
		[]string{"上月链头哈希", seal.BaseHash},
		[]string{"本月链头哈希", seal.HeadHash},
		[]string{"签名时间", seal.SignedAt.In(chinaTime).Format("2006-01-02 15:04:05")},
		[]string{"密钥编号", seal.KeyID},
		[]string{"公钥（Ed25519，Base64）", seal.PublicKey},
		[]string{"签名（Base64）", seal.Signature},
		[]string{"离线校验", "fieldsync audit verify --export " + entriesFile(seal.Month) + " --seal " + sealFile(seal.Month) + " --pubkey 服务器公钥文件"},
	)
	return t
}

// auditLinks are the report page's links to the seal and the entries.
func (c *Console) auditLinks(ec echo.Context, rp reportParams) map[string]any {
	q := url.Values{"month": {rp.Month}}.Encode()
	links := map[string]any{"Seal": template.URL("/console/report/seal.json?" + q)}
	if principalOf(ec).Role.AllCounties() {
		links["Entries"] = template.URL("/console/report/audit.jsonl?" + q)
	}
	return links
}

// requestedSeal returns the seal of month (the request's "month"
// parameter), or the error that answers the request: a malformed month,
// or one not sealed (saying why).
func (c *Console) requestedSeal(ec echo.Context, month string) (*audit.Seal, error) {
	now := c.now().In(chinaTime)
	switch start, _ := time.ParseInLocation("2006-01", month, chinaTime); {
	case month == "":
		return nil, server.Errorf(syncproto.CodeInvalidValue, "请指定月份，如 %s", now.AddDate(0, -1, 0).Format("2006-01"))
	case !reMonth.MatchString(month):
		return nil, badMonth(month, now)
	case start.After(now):
		// As the report says of a month not begun (not "not over yet").
		return nil, server.Errorf(syncproto.CodeInvalidValue, "%s 还没有开始，没有审计记录（本月是 %s）", month, now.Format("2006-01"))
	}
	seal, why, err := c.monthSeal(ec, month)
	if err != nil {
		return nil, err
	}
	if seal == nil {
		return nil, server.Errorf(syncproto.CodeNotFound, "%s：%s", month, why)
	}
	return seal, nil
}

// reportSeal downloads the month's seal as JSON.
func (c *Console) reportSeal(ec echo.Context) error {
	month := ec.QueryParam("month")
	seal, err := c.requestedSeal(ec, month)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(seal, "", "  ")
	if err != nil {
		return err
	}
	attachment(ec, sealFile(month))
	return ec.Blob(http.StatusOK, "application/json", append(b, '\n'))
}

// reportAuditEntries downloads the sealed month's entries as JSON lines.
// The entries name every county's records, so only a viewer whose scope
// is every county (the city, an administrator) may take them.
func (c *Console) reportAuditEntries(ec echo.Context) error {
	if !principalOf(ec).Role.AllCounties() {
		return server.Errorf(syncproto.CodeForbidden, "审计记录含全市各区县的记录，只有市级督查或管理员可以导出")
	}
	month := ec.QueryParam("month")
	seal, err := c.requestedSeal(ec, month)
	if err != nil {
		return err
	}
	entries, err := server.SealEntries(ec.Request().Context(), c.d.Store, seal)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := audit.WriteEntries(&buf, entries); err != nil {
		return err
	}
	attachment(ec, entriesFile(month))
	return ec.Blob(http.StatusOK, "application/x-ndjson", buf.Bytes())
}
