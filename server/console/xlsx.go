package console

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xuri/excelize/v2"
)

// xlsxSheet is one sheet of an exported workbook: a title row naming who
// made it, for when and when (merged across the columns), a header row
// (frozen, with an autofilter over the data) and the rows, with an
// optional totals row below them. Cells are strings, ints, float64s or
// percents; numbers are written as numbers, never as text.
type xlsxSheet struct {
	Name   string // the sheet's tab (at most 31 characters)
	Title  string // the title row; exportXLSX adds the unit and the date made
	Filter string // the filter that made it (caption), said after the title; "" for none
	Header []string
	Rows   [][]any
	// Totals is the totals row (合计), nil for none; it sits below the
	// autofilter's range so that sorting leaves it last.
	Totals []any
}

// percent is a fraction (0.22 for 22%) written as a number with a
// percent format to one decimal, as the pages show rates.
type percent float64

// wholePercent is a fraction written with a whole percent format (1 as
// 100%): a task's progress, which is reported in whole percents and shown
// so on the ledger's page (month-end probe: 100.0% in the export only).
type wholePercent float64

// noRate is what a rate or percentage over nothing (a zero denominator:
// no 国六 truck checked, no task, no county) shows, on the pages and in
// the exports alike: a dash, never 0%.
const noRate = "—"

// rateText is n of d as the pages show it, in percent to one decimal
// (server.RoundPct: "12.5%"), or noRate when d is 0.
func rateText(n, d int) string {
	if d == 0 {
		return noRate
	}
	return pctText(server.RoundPct(float64(n)*100/float64(d)), d)
}

// pctText is pct, a percentage over of things (a mean over tasks or
// counties, a share of items failed), as the pages show it ("57.5%"),
// rounded as every percentage is (server.RoundPct: 1 in 16 is 6.3%, where
// formatting alone gave 6.2%), or noRate when of is 0.
func pctText(pct float64, of int) string {
	if of == 0 {
		return noRate
	}
	return strconv.FormatFloat(server.RoundPct(pct), 'f', 1, 64) + "%"
}

// xlsxContentType is the media type of an XLSX workbook.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// exportUnit is the unit an export is made by: the city (忻州市) for a
// city office or admin, else the office's counties.
func (c *Console) exportUnit(p *server.Principal) string {
	if p == nil || p.Role.AllCounties() {
		return "忻州市"
	}
	names := make([]string, len(p.Counties))
	for i, code := range p.Counties {
		names[i] = c.countyName(code)
	}
	return "忻州市" + strings.Join(names, "、")
}

// exportXLSX sends sheets as the workbook name.xlsx: every export of the
// console is written here. Each title row reads "<unit> <title> 制表日期：
// <today>".
func (c *Console) exportXLSX(ec echo.Context, name string, sheets []xlsxSheet) error {
	made := c.now().In(chinaTime).Format(time.DateOnly)
	unit := c.exportUnit(principalOf(ec))
	// The file's own properties say the same: who made it, what and when
	// (not the library's defaults, a stranger's name and 2006).
	at := c.now().UTC().Format(time.RFC3339)
	props := excelize.DocProperties{Creator: unit, LastModifiedBy: unit, Title: name, Created: at, Modified: at, Language: "zh-CN"}
	b, err := buildXLSX(sheets, props, func(title string) string { return unit + " " + title + "　制表日期：" + made })
	if err != nil {
		return fmt.Errorf("write %s.xlsx: %w", name, err)
	}
	attachment(ec, name+".xlsx")
	return ec.Blob(http.StatusOK, xlsxContentType, b)
}

// Rows of an exported sheet: the title, the header, then the data.
const (
	xlsxTitleRow  = 1
	xlsxHeaderRow = 2
	xlsxFirstRow  = 3
)

// buildXLSX writes the workbook with its properties; titled makes each
// title row's text.
func buildXLSX(sheets []xlsxSheet, props excelize.DocProperties, titled func(string) string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetDocProps(&props); err != nil {
		return nil, err
	}
	pctFmt, wholeFmt := "0.0%", "0%"
	styles := map[string]*excelize.Style{
		"whole":  {CustomNumFmt: &wholeFmt},
		"twhole": {Font: &excelize.Font{Bold: true}, CustomNumFmt: &wholeFmt},
		"title":  {Font: &excelize.Font{Bold: true, Size: 14}},
		"header": {Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBE3"}}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}},
		"pct":    {CustomNumFmt: &pctFmt},
		"text":   {Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}},
		"total":  {Font: &excelize.Font{Bold: true}},
		"tpct":   {Font: &excelize.Font{Bold: true}, CustomNumFmt: &pctFmt},
	}
	ids := map[string]int{}
	for k, s := range styles {
		id, err := f.NewStyle(s)
		if err != nil {
			return nil, err
		}
		ids[k] = id
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.Name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(s.Name); err != nil {
			return nil, err
		}
		if err := writeSheet(f, s, titled(withFilter(s.Title, s.Filter)), ids); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", s.Name, err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeSheet(f *excelize.File, s xlsxSheet, title string, style map[string]int) error {
	name, cols := s.Name, len(s.Header)
	cell := func(col, row int) string {
		ref, _ := excelize.CoordinatesToCellName(col, row)
		return ref
	}
	last := cell(cols, xlsxTitleRow)
	if err := f.SetCellStr(name, "A1", title); err != nil {
		return err
	}
	if err := f.SetCellStyle(name, "A1", "A1", style["title"]); err != nil {
		return err
	}
	if cols > 1 {
		if err := f.MergeCell(name, "A1", last); err != nil {
			return err
		}
	}
	header := make([]any, cols)
	width := make([]int, cols)
	for i, h := range s.Header {
		header[i] = h
		width[i] = textWidth(h)
	}
	if err := f.SetSheetRow(name, cell(1, xlsxHeaderRow), &header); err != nil {
		return err
	}
	if err := f.SetCellStyle(name, cell(1, xlsxHeaderRow), cell(cols, xlsxHeaderRow), style["header"]); err != nil {
		return err
	}
	put := func(row int, vals []any, total bool) error {
		pctStyle, wholeStyle, textStyle := style["pct"], style["whole"], 0
		if total {
			pctStyle, wholeStyle, textStyle = style["tpct"], style["twhole"], style["total"]
		}
		out := make([]any, len(vals))
		for col, v := range vals {
			switch v := v.(type) {
			case percent:
				out[col] = float64(v)
				width[col] = max(width[col], 7)
			case wholePercent:
				out[col] = float64(v)
				width[col] = max(width[col], 5)
			case string:
				v = unbidiText(v)
				out[col] = v
				width[col] = max(width[col], textWidth(v))
			default:
				out[col] = v
				width[col] = max(width[col], len(fmt.Sprint(v)))
			}
		}
		if err := f.SetSheetRow(name, cell(1, row), &out); err != nil {
			return err
		}
		for col, v := range vals {
			st := textStyle
			switch v := v.(type) {
			case percent:
				st = pctStyle
			case wholePercent:
				st = wholeStyle
			case string:
				if st == 0 && textWidth(v) > 58 {
					st = style["text"]
				}
			}
			if st != 0 {
				if err := f.SetCellStyle(name, cell(col+1, row), cell(col+1, row), st); err != nil {
					return err
				}
			}
		}
		return nil
	}
	row := xlsxFirstRow
	for _, r := range s.Rows {
		if err := put(row, r, false); err != nil {
			return err
		}
		row++
	}
	lastData := max(row-1, xlsxHeaderRow)
	if s.Totals != nil {
		if err := put(row, s.Totals, true); err != nil {
			return err
		}
		row++
	}
	// excelize leaves the dimension at A1; readers that trust it (and
	// the tests) see the real extent.
	if err := f.SetSheetDimension(name, "A1:"+cell(cols, row-1)); err != nil {
		return err
	}
	// Widths fit the text: a Chinese character is two columns wide, and
	// the header leaves room for the filter's button; long text (notes,
	// problems) wraps at 60.
	for i, w := range width {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(name, col, col, float64(min(max(w+4, 8), 60))); err != nil {
			return err
		}
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: xlsxHeaderRow, TopLeftCell: cell(1, xlsxFirstRow),
		ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return f.AutoFilter(name, cell(1, xlsxHeaderRow)+":"+cell(cols, lastData), nil)
}

// textWidth is s's width in a spreadsheet's columns: two for a Chinese
// (wide) character, one for others, of its longest line.
func textWidth(s string) int {
	widest := 0
	for _, line := range strings.Split(s, "\n") {
		w := 0
		for _, r := range line {
			if utf8.RuneLen(r) > 2 {
				w += 2
			} else {
				w++
			}
		}
		widest = max(widest, w)
	}
	return widest
}
