package console

// The review queue's judging columns and sorting, and bulk approval
// (issue 12, points 2 and 3).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// maxBulk is the most inspections one bulk approval takes (a queue page).
const maxBulk = pageSize

// queueColumn is a sortable header of the queue: a link that sorts by it,
// or reverses the order when it already does.
type queueColumn struct {
	Key, Label, URL, Mark string
	On                    bool
	// Sort is the column's aria-sort: ascending or descending on the
	// column the queue is sorted by, "" on the others.
	Sort string
}

// queueColumns are the queue's headers in order; numeric columns sort
// largest first on the first click, names A→Z, time newest first.
type columnDef struct {
	key, label string
	desc       bool
}

var queueColumns = []columnDef{
	{"started", "检查时间", true}, {"received", "最近送达", true}, {"county", "区县", false}, {"site", "点位", false}, {"template", "检查表", false},
	{"inspector", "巡查员", false}, {"status", "状态", false}, {"failed", "不合格项", true}, {"photos", "照片", true},
	{"flags", "带标记照片", true}, {"missing", "缺项", true},
}

// queueSort reads the sort and dir parameters ("" sorts newest first).
func queueSort(ec echo.Context) (server.QueueSort, error) {
	s := server.QueueSort{Key: ec.QueryParam("sort")}
	if s.Key == "" {
		return server.QueueSort{Key: "started", Desc: true}, nil
	}
	if !slices.Contains(server.QueueSortKeys, s.Key) {
		return s, server.Errorf(syncproto.CodeBadRequest, "不能按 %q 排序", s.Key)
	}
	switch ec.QueryParam("dir") {
	case "asc":
	case "desc":
		s.Desc = true
	case "":
		i := slices.IndexFunc(queueColumns, func(c columnDef) bool { return c.key == s.Key })
		s.Desc = queueColumns[i].desc
	default:
		return s, server.Errorf(syncproto.CodeBadRequest, "排序方向只能是 asc（升序）或 desc（降序）")
	}
	return s, nil
}

// sortColumns makes the headers' links: the filters, sorted by the column
// (from the first page).
func sortColumns(filters url.Values, s server.QueueSort) []queueColumn {
	var out []queueColumn
	for _, c := range queueColumns {
		desc := c.desc
		col := queueColumn{Key: c.key, Label: c.label}
		if c.key == s.Key {
			col.On, desc = true, !s.Desc
			col.Mark, col.Sort = "↑", "ascending"
			if s.Desc {
				col.Mark, col.Sort = "↓", "descending"
			}
		}
		v := url.Values{}
		for k, vals := range filters {
			v[k] = vals
		}
		v.Set("sort", c.key)
		v.Set("dir", map[bool]string{true: "desc", false: "asc"}[desc])
		col.URL = "/console/queue?" + v.Encode()
		out = append(out, col)
	}
	return out
}

// queueEntries reads a page of the queue sorted as asked, as rows.
func (c *Console) queueEntries(ec echo.Context, q server.InspectionQuery, s server.QueueSort) ([]queueRow, int, error) {
	es, total, err := c.d.Store.InspectionQueue(ec.Request().Context(), q, s)
	if err != nil {
		return nil, 0, err
	}
	rows, now := make([]queueRow, 0, len(es)), c.now()
	for i := range es {
		e, r := &es[i], es[i].Record
		if r == nil {
			continue
		}
		row := queueRow{ID: r.ID, County: c.countyName(r.County), Site: c.siteName(ec, r.Text("site_id")),
			Template: c.templateTitle(r.Text("template_id")), Status: r.Text("status"),
			Started: visitStarted(r), Received: recentStamp(r.UpdatedAt, now), Inspector: e.Inspector, Failed: e.Failed, Photos: e.Photos, Flags: e.Flags, Unchecked: e.Unchecked}
		row.Missing, row.Checked, row.Unknown = max(e.Missing, 0), e.Missing >= 0, server.HasUnknownAnswers(r)
		row.Resubmitted = resubmitted(r)
		row.Bulk = row.Status == "submitted" && e.Clean() && principalOf(ec).Role.CanReview() && !server.OwnWork(principalOf(ec), r)
		rows = append(rows, row)
	}
	return rows, total, nil
}

// bulkItem is one inspection of a bulk approval: what it is, and why it
// cannot be approved in bulk ("" when it can).
type bulkItem struct {
	ID, County, Site, Template, Started, Inspector, Refused string
	Approved                                                bool
	// Failed counts the items its answers fail (不合格项, as the queue
	// counts them): approved, their findings are to be rectified.
	Failed int
	// Resubmitted: returned, and submitted again (as the queue marks it),
	// with the comment it was returned with (ReturnComment): one ticked
	// among others was approved unread (office probe).
	Resubmitted   bool
	ReturnComment string
	// Before: approved already, by this reviewer from the same list (the
	// confirmation sent again: Back, then confirm): not approved again.
	Before bool
	Seq    int64 // the version listed (confirmation) or found
}

// errNoneTicked is a bulk request with no inspection ticked.
var errNoneTicked = server.Errorf(syncproto.CodeBadRequest, "请先在审核队列中勾选要批量通过的检查记录")

// bulkIDs are the distinct inspection ids of a bulk request, in order.
func bulkIDs(ec echo.Context) ([]string, error) {
	if err := ec.Request().ParseForm(); err != nil {
		return nil, server.Errorf(syncproto.CodeBadRequest, "无法读取表单")
	}
	var ids []string
	for _, id := range ec.Request().Form["id"] {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		return nil, errNoneTicked
	case len(ids) > maxBulk:
		return nil, server.Errorf(syncproto.CodeBadRequest, "一次最多批量通过 %d 条检查记录", maxBulk)
	}
	return ids, nil
}

// bulkCheck describes inspection id and says why it may not be approved
// in bulk: not found, out of the viewer's scope, not waiting for review,
// not yet checked for completeness, missing items, or evidence flags.
func (c *Console) bulkCheck(ctx context.Context, p *server.Principal, mine server.Hands, id string) (bulkItem, error) {
	it := bulkItem{ID: id}
	insp, err := c.d.Store.Get(ctx, syncproto.EntityInspection, id)
	switch {
	case err != nil:
		return it, err
	case insp == nil && !server.IsCanonicalUUID(id):
		// Not "does not exist" of an id in upper case, or not an id at
		// all (verification probe), as on a record's page (pageID).
		it.Refused = server.ErrorMessage(server.CheckID("编号", id))
		return it, nil
	case insp == nil || insp.State.IsDeleted():
		it.Refused = "检查记录不存在"
		return it, nil
	case !p.CanSee(insp.County):
		it.Refused = "无权审核其他区县的检查记录"
		return it, nil
	}
	if it.Seq, err = server.InspectionVersion(ctx, c.d.Store, insp); err != nil {
		return it, err
	}
	it.County, it.Site = c.countyName(insp.County), c.siteNameIn(ctx, insp.Text("site_id"))
	it.Template, it.Started = c.templateTitle(insp.Text("template_id")), visitStarted(insp)
	it.Inspector = c.userName(ctx, insp.CreatedBy)
	it.Failed = jsonLen(insp.Value("failed_items"))
	if it.Resubmitted = resubmitted(insp); it.Resubmitted {
		it.ReturnComment = insp.Text("review_comment")
	}
	if st := insp.Text("status"); st != "submitted" {
		it.Refused = "不是待审核状态（当前：" + statusName(st) + "），不能审核"
		return it, nil
	}
	if mine.In(p, insp) {
		it.Refused = "这是您本人创建或修改过的检查记录，须由其他督查人员审核"
		return it, nil
	}
	if n, ok := missingCount(insp); !ok {
		it.Refused = "尚未完成完整性核对，请逐条审核"
		return it, nil
	} else if n > 0 {
		it.Refused = fmt.Sprintf("有 %d 项缺项，不能批量通过，请打开记录逐条审核", n)
		return it, nil
	}
	if server.HasUnknownAnswers(insp) {
		it.Refused = "有检查表中没有的检查项（未知检查项），不能批量通过，请打开记录逐条审核"
		return it, nil
	}
	n, unchecked, err := c.evidenceFlags(ctx, id)
	switch {
	case err != nil:
		return it, err
	case n > 0: // a flag known is the first reason
		it.Refused = fmt.Sprintf("有 %d 张照片带证据标记，不能批量通过，请打开记录逐条审核", n)
	case unchecked > 0:
		// Its flags are not known yet: the bytes are still to come, or
		// the server is still checking them (seconds after the upload).
		it.Refused = fmt.Sprintf("有 %d 张照片尚未上传或尚未完成检查，不能批量通过，请稍后再试或打开记录逐条审核", unchecked)
	}
	return it, nil
}

func statusName(s string) string {
	if n := statusNames[s]; n != "" {
		return n
	}
	return s
}

// evidenceFlags counts the live photos of an inspection and of its live
// findings that carry an evidence flag (as the queue and the
// inspection's page count them: a photo with two flags once), and the
// photos whose flags are not known yet (not processed: not uploaded, or
// being checked).
func (c *Console) evidenceFlags(ctx context.Context, inspID string) (flagged, unchecked int, err error) {
	photos, err := c.inspectionPhotos(ctx, inspID)
	if err != nil {
		return 0, 0, err
	}
	for _, ph := range photos {
		if ph.Text("processed_at") == "" {
			unchecked++
		}
		if names, _ := explain(ph.Value("flags"), nil); len(names) > 0 {
			flagged++
		}
	}
	return flagged, unchecked, nil
}

// inspectionPhotos are the live photos of an inspection: those naming it
// and those naming one of its live findings only, each once.
func (c *Console) inspectionPhotos(ctx context.Context, inspID string) ([]*server.StoredRecord, error) {
	photos, err := c.d.Store.Find(ctx, syncproto.EntityPhoto, "inspection_id", inspID)
	if err != nil {
		return nil, err
	}
	fs, err := c.d.Store.Find(ctx, syncproto.EntityFinding, "inspection_id", inspID)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.State.IsDeleted() {
			continue
		}
		ps, err := c.d.Store.Find(ctx, syncproto.EntityPhoto, "finding_id", f.ID)
		if err != nil {
			return nil, err
		}
		photos = append(photos, ps...)
	}
	seen := make(map[string]bool, len(photos))
	return slices.DeleteFunc(photos, func(ph *server.StoredRecord) bool {
		drop := ph.State.IsDeleted() || seen[ph.ID]
		seen[ph.ID] = true
		return drop
	}), nil
}

// userName is the display name of a user id ("" if unknown).
func (c *Console) userName(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	us, err := c.d.Store.Users(ctx)
	if err != nil {
		return ""
	}
	for _, u := range us {
		if u.ID == id {
			return u.DisplayName
		}
	}
	return ""
}

// bulkConfirm lists the ticked inspections before they are approved:
// those that may be, and those refused with the reason.
func (c *Console) bulkConfirm(ec echo.Context) error {
	p := principalOf(ec)
	if !p.Role.CanReview() {
		return server.Errorf(syncproto.CodeForbidden, "只有区县或市级督查人员可以审核")
	}
	ids, err := bulkIDs(ec)
	if errors.Is(err, errNoneTicked) {
		// Said on the queue, as it was filtered: nothing was ticked.
		to := "/console/queue"
		if b, ok := listBack(ec.QueryParam("back")); ok {
			to = b.Href
		}
		return redirectDone(ec, to, url.Values{"bulk": {"none"}})
	}
	if err != nil {
		return err
	}
	mine, err := c.d.Syncer.HandsOf(ec.Request().Context(), p)
	if err != nil {
		return err
	}
	var ok, refused []bulkItem
	for _, id := range ids {
		it, err := c.bulkCheck(ec.Request().Context(), p, mine, id)
		if err != nil {
			return err
		}
		if it.Refused == "" {
			ok = append(ok, it)
		} else {
			refused = append(refused, it)
		}
	}
	withFailed, failed, again := 0, 0, 0
	for _, it := range ok {
		if it.Failed > 0 {
			withFailed, failed = withFailed+1, failed+it.Failed
		}
		if it.Resubmitted {
			again++
		}
	}
	return c.render(ec, http.StatusOK, "bulk.html", map[string]any{"OK": ok, "Refused": refused, "WithFailed": withFailed, "Failed": failed, "Resubmitted": again})
}

// bulkApprove approves each posted inspection that may be approved in
// bulk, one by one through Syncer.Review as a single approval would, and
// lists what it approved and what it refused and why. The check reads the
// records just before each Review, not in its transaction: a flag the
// photo processor adds in that instant is not seen, as it would not be by
// a reviewer pressing 审核通过 on the detail page.
func (c *Console) bulkApprove(ec echo.Context) error {
	p := principalOf(ec)
	if !p.Role.CanReview() {
		return server.Errorf(syncproto.CodeForbidden, "只有区县或市级督查人员可以审核")
	}
	ids, err := bulkIDs(ec)
	if err != nil {
		return err
	}
	// The approvals are done whether or not the browser waits for the
	// answer: a click again while the first is under way, or a closed
	// tab, must not leave half the list approved and the rest not.
	ctx := context.WithoutCancel(ec.Request().Context())
	mine, err := c.d.Syncer.HandsOf(ctx, p)
	if err != nil {
		return err
	}
	var items []bulkItem
	approved, before := 0, 0
	stopped := "" // why the rest are not approved: the reviewer may no longer
	for i, id := range ids {
		if pauseAt != nil {
			pauseAt(ec.Request(), "bulk")
		}
		// Each approval is the reviewer's as they are at that moment, as
		// a request of its own would be: one disabled, signed out or given
		// other counties while the list is under way stops there.
		if i > 0 && stopped == "" {
			_, _, now, err := c.signedIn(ctx, ec)
			switch code := server.ErrorCode(err); {
			case err == nil:
				p = now
			case err == errNoSession:
				stopped = "请先登录"
			case code == syncproto.CodeUnauthorized, code == syncproto.CodeForbidden:
				stopped = server.ErrorMessage(err)
			default:
				return err
			}
		}
		it, err := c.bulkCheck(ctx, p, mine, id)
		if err != nil {
			return err
		}
		if stopped != "" {
			it.Refused = stopped
			items = append(items, it)
			continue
		}
		// What is approved is the version the confirmation listed; one
		// this reviewer approved from that list already (the form sent
		// twice) counts as approved.
		seen := formSeq(ec.FormValue("seq_" + id))
		if it.Refused == "" {
			if _, err := c.d.Syncer.Review(ctx, p, id, server.DecisionApprove, "", server.Seen{Seq: seen, Evidence: true}); err == nil {
				it.Approved = true
			} else if server.ErrorCode(err) == syncproto.CodeInternal {
				return err
			} else {
				it.Refused = server.ErrorMessage(err)
			}
		}
		if !it.Approved && it.Seq > 0 {
			if _, it.Approved, err = server.ReviewInEffect(ctx, c.d.Store, p, id, server.DecisionApprove, "", seen); err != nil {
				return err
			}
			it.Before = it.Approved
		}
		if it.Approved {
			it.Refused = ""
			approved++
		}
		if it.Before {
			before++
		}
		items = append(items, it)
	}
	status := http.StatusOK
	if approved == 0 {
		status = http.StatusConflict
	}
	return c.render(ec, status, "bulk.html", map[string]any{"Done": true, "Items": items, "Approved": approved, "Before": before, "Count": len(items)})
}

// lonLat labels a position's coordinates: 经度 (longitude) first, then
// 纬度 (latitude), in degrees.
func lonLat(lon, lat float64) string {
	return fmt.Sprintf("经度 %.6f，纬度 %.6f", lon, lat)
}

// deviceNamer names devices by id: the phone's name and its user's.
type deviceNamer struct {
	known map[string]string
	// more names a device known is not among (one of a user outside the
	// viewer's scope: a city office's phone that wrote a county's
	// record), "" when it cannot.
	more func(id string) string
}

func (d deviceNamer) name(id string) string {
	if id == "" {
		return ""
	}
	if n := d.known[id]; n != "" {
		return n
	}
	if d.more != nil {
		if n := d.more(id); n != "" {
			d.known[id] = n
			return n
		}
	}
	return "设备 " + id
}

// deviceNames reads the devices in the viewer's scope (none if that
// fails: the name is a convenience), and names any other device a record
// the viewer reads names (roadside probe: a city office's phone was a
// bare id to the county office reading the history it wrote).
func (c *Console) deviceNames(ec echo.Context) deviceNamer {
	ctx := ec.Request().Context()
	people := c.peopleNames(ctx)
	label := func(d *server.Device) string {
		n := cmp.Or(d.Name, d.ID)
		if who := cmp.Or(people[d.UserID], d.Username); who != "" && !mentions(n, who) {
			n += "（" + who + "）"
		}
		return n
	}
	out := deviceNamer{known: map[string]string{}, more: func(id string) string {
		d, err := c.d.Store.Device(ctx, id)
		if err != nil || d == nil {
			return ""
		}
		return label(d)
	}}
	ds, err := c.d.Store.Devices(ctx, principalOf(ec).Scope())
	if err != nil {
		return out
	}
	for _, d := range ds {
		out.known[d.ID] = label(d)
	}
	return out
}

// mentions reports whether name (a device's, as its owner typed it:
// "华为 Mate 40 Pro（张巡查）") already names who, so that who is not
// added again: who appears in it, ASCII case aside, and not inside a
// longer word ("mi" is not in "Xiaomi").
func mentions(name, who string) bool {
	name, who = strings.ToLower(name), strings.ToLower(who)
	alnum := func(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
	first, _ := utf8.DecodeRuneInString(who)
	last, _ := utf8.DecodeLastRuneInString(who)
	for i := 0; who != ""; {
		j := strings.Index(name[i:], who)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(who)
		before, _ := utf8.DecodeLastRuneInString(name[:start])
		after, _ := utf8.DecodeRuneInString(name[end:])
		if !(alnum(before) && alnum(first)) && !(alnum(after) && alnum(last)) {
			return true
		}
		i = start + 1
	}
	return false
}
