package sqlstore

import (
	"slices"

	"github.com/xinzhou-eco/fieldsync/internal/sqllit"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// queuePhotos is the live photos of inspection and of its live findings.
var queuePhotos = PhotosOf("inspection")

// PhotoExists is the condition that the inspection row named alias has
// a photo (PhotosOf) for which cond holds. The LIMIT 1 keeps SQLite from
// turning the EXISTS into a join, which it planned as a scan of every
// photo through an index built for each query (0.4 s for 2,000
// inspections, against 13 ms through the photo indexes).
func PhotoExists(alias, cond string) string {
	return `EXISTS (SELECT 1 FROM ` + PhotosOf(alias) + ` AND ` + cond + ` LIMIT 1)`
}

// PhotosOf is "photo p WHERE …" selecting the live photos of the
// inspection row named alias and of its live findings, each once: the
// photos the review queue, the monthly report and the console count as
// the inspection's.
func PhotosOf(alias string) string {
	return `photo p WHERE p.deleted_hlc = '' AND (p.inspection_id = ` + alias + `.id
	OR p.finding_id IN (SELECT f.id FROM finding f WHERE f.inspection_id = ` + alias + `.id AND f.deleted_hlc = ''))`
}

// OverdueFindingsSQL counts the findings past their deadline (bound to
// its one ?, a date) and not yet rectified, as the offices see findings
// (officeFinding). The scope's condition on f follows.
var OverdueFindingsSQL = `SELECT count(*) FROM finding f WHERE ` + officeFinding("f") + ` AND ` + overdueFinding("f")

// officeFinding is the condition that the finding row known as alias is
// one the offices see: live, of a live inspection under review or
// reviewed (the monthly report's and the findings export's), never of a
// draft.
func officeFinding(alias string) string {
	return alias + `.deleted_hlc = '' AND EXISTS (SELECT 1 FROM inspection i WHERE i.id = ` + alias + `.inspection_id AND i.deleted_hlc = ''
	AND i.status IN ` + sqllit.List(server.ReviewStatuses) + `)`
}

// overdueFinding is the condition that the finding row known as alias is
// past its deadline on the date bound to its one ? and still to be
// rectified.
func overdueFinding(alias string) string {
	return `coalesce(` + alias + `.deadline, '') != '' AND ` + alias + `.deadline < ? AND coalesce(` + alias + `.status, '') IN ` +
		sqllit.List(server.OpenFindingStatuses)
}

// FindingWhere builds the WHERE clause of Findings, and its order: the
// earliest deadline first, those without one last.
func (d *Dialect) FindingWhere(q server.FindingQuery) (where string, args []any, order string) {
	where, args = d.ScopeOf(q.Scope, "finding")
	w := " WHERE " + officeFinding("finding") + where
	if q.County != "" {
		w += " AND finding.county = ?"
		args = append(args, q.County)
	}
	switch {
	case q.Open:
		w += " AND coalesce(finding.status, '') IN " + sqllit.List(server.OpenFindingStatuses)
	case q.Status != "":
		w += " AND finding.status = ?"
		args = append(args, q.Status)
	}
	if q.Verifiable {
		w += " AND EXISTS (SELECT 1 FROM inspection vi WHERE vi.id = finding.inspection_id AND vi.status = 'approved')"
	}
	if q.Unapproved {
		w += " AND NOT EXISTS (SELECT 1 FROM inspection vi WHERE vi.id = finding.inspection_id AND vi.status = 'approved')"
	}
	if q.OverdueOn != "" {
		w += " AND " + overdueFinding("finding")
		args = append(args, q.OverdueOn)
	}
	if q.From != "" || q.To != "" {
		var on string
		on, args = andIf("", args, d.VisitDate("vd")+" >= ?", q.From)
		on, args = andIf(on, args, d.VisitDate("vd")+" <= ?", q.To)
		w += " AND EXISTS (SELECT 1 FROM inspection vd WHERE vd.id = finding.inspection_id" + on + ")"
	}
	return w, args, "coalesce(nullif(finding.deadline, ''), '9999-12-31'), finding.id"
}

// QueueJSON are the counts of the review queue read from JSON text
// columns, in a dialect's JSON functions: expressions over the row of
// inspection.
type QueueJSON struct {
	// Failed is the number of items whose answer fails them, as the
	// server listed them (failed_items, server/completeness.go); 0
	// before it did.
	Failed string
	// Missing is the number of distinct keys of missing_items, -1 when
	// it is not a JSON array.
	Missing string
}

// queueOrder maps the sort keys that are columns or joins to expressions
// ("started" is the dialect's VisitTime); the other keys are the computed
// counts, by their alias.
var queueOrder = map[string]string{
	// The latest arrival: a resubmission after a return, or evidence
	// come since, not the draft's first (office probe: a correction sent
	// today sorted as of the day its draft first arrived).
	"received": "updated_at",
	"county":   "county",
	"site":     "coalesce((SELECT s.name FROM site s WHERE s.id = inspection.site_id), inspection.site_id)",
	"template": "template_id",
	"status":   "status",
}

// QueueSQL returns the SELECT of a page of the review queue: of the
// inspections where selects (Dialect.InspectionWhere), the id, the
// inspector's name and the counts a reviewer judges by (server.QueueEntry:
// failed, photos, flags, missing), in the order s asks (started, newest
// first, when s.Key is empty; ties newest first, then by id), limit and
// offset its last two arguments. A sort key not in server.QueueSortKeys is
// CodeBadRequest (the key is never put into the SQL unchecked).
func (d *Dialect) QueueSQL(where string, s server.QueueSort) (string, error) {
	if s.Key == "" {
		s.Key, s.Desc = "started", true
	}
	if !slices.Contains(server.QueueSortKeys, s.Key) {
		return "", server.Errorf(syncproto.CodeBadRequest, "不能按 %q 排序", s.Key)
	}
	key := queueOrder[s.Key]
	switch {
	case s.Key == "started":
		key = d.VisitTime("inspection")
	case key == "":
		key = s.Key // one of the computed columns, by its alias
	}
	dir := " ASC" + d.NullsFirst
	if s.Desc {
		dir = " DESC" + d.NullsLast
	}
	j := d.Queue
	return "SELECT id, " +
		`coalesce((SELECT u.display_name FROM users u WHERE u.id = inspection.created_by), '')` + " AS inspector, " +
		j.Failed + " AS failed, " +
		`(SELECT count(*) FROM ` + queuePhotos + `)` + " AS photos, " +
		`(SELECT count(*) FROM ` + queuePhotos + ` AND ` + d.AnyFlag("p.flags") + `)` + " AS flags, " +
		j.Missing + " AS missing, " +
		`(SELECT count(*) FROM ` + queuePhotos + ` AND p.processed_at IS NULL)` + " AS unchecked FROM inspection" + where +
		" ORDER BY " + key + dir + ", " + d.InspectionOrder() + " LIMIT ? OFFSET ?", nil
}
