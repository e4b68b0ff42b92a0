package sqlstore

import (
	"slices"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Dialect is the little that differs between the SQL of the two stores
// where a statement is otherwise the same; each store has one.
type Dialect struct {
	// In returns the condition that col is one of vals, and its
	// arguments: "col IN (?,?,…)" with a value an argument (SQLite), or
	// "col = ANY(?)" with the list one array argument (PostgreSQL). vals
	// is never empty.
	In func(col string, vals []string) (string, []any)
	// InBands returns the condition that col is one of vals, the band
	// values of a perceptual hash lookup (PhotoHashCandidates: thousands
	// of them), and its one argument: the values as a JSON array read by
	// json_each (SQLite), or as an integer array (PostgreSQL), so that
	// the statement's text is the same for every lookup.
	InBands func(col string, vals []uint32) (string, []any)
	// Like is the LIKE operator that ignores ASCII case: LIKE (SQLite),
	// ILIKE (PostgreSQL).
	Like string
	// NullsFirst and NullsLast follow an ascending and a descending ORDER
	// BY term so that it sorts NULLs as SQLite does: first ascending,
	// last descending. Both "" in SQLite.
	NullsFirst, NullsLast string
	// HasFlag returns the condition that column (the JSON text of a
	// photo's flags) is an object with the key bound to its one ?.
	HasFlag func(column string) string
	// AnyFlag returns the condition that column (the JSON text of a
	// photo's flags) raises some flag: not empty, not null.
	AnyFlag func(column string) string
	// Queue is the counts of the review queue (QueueSQL) that read JSON.
	Queue QueueJSON
	// Trim is the function that trims the characters of its second
	// argument from both ends of its first: trim (SQLite), btrim
	// (PostgreSQL).
	Trim string
	// UpperASCII returns the expression of text with its ASCII letters,
	// and only those, in upper case.
	UpperASCII func(expr string) string
	// AnswerText returns the expression of what a person reads of an
	// inspection's answers (column, their JSON text): each answer's note
	// and text value, one a line, but the values of the items skip
	// names, a SQL list of choice items' keys (sqllit.List), whose values
	// are option codes. Search matches it, not the JSON, whose keys,
	// quotes and codes ("pass", "not_started") would match every
	// inspection.
	AnswerText func(column, skip string) string
	// Visible returns the expression of text without its format
	// characters, as server.Visible: what search matches, as it matches
	// what was typed without them. It costs more than a LIKE: a search
	// asks for it only where a LIKE of the loose pattern matched
	// (LoosePattern).
	Visible func(expr string) string
	// ChinaTime returns the expression of the time in China of a column
	// of Unix milliseconds, as a stored time is written
	// (2026-03-01T09:30:00+08:00, to the second).
	ChinaTime func(msCol string) string
}

// VisitTime is the expression of the time (RFC 3339 text, in China) an
// inspection counts at, of the table known by alias ("" for none): its
// visit's start, or — for one sent without started_at — when the server
// received it, which the console shows in its place. The queue sorts by
// it, so that an inspection is where its shown time puts it.
func (d *Dialect) VisitTime(alias string) string {
	if alias != "" {
		alias += "."
	}
	return "coalesce(" + alias + "started_at, " + d.ChinaTime(alias+"created_at") + ")"
}

// VisitDate is the expression of the date (YYYY-MM-DD, in China) an
// inspection counts in (VisitTime's), so that every inspection counts in
// some month.
func (d *Dialect) VisitDate(alias string) string {
	return "substr(" + d.VisitTime(alias) + ", 1, 10)"
}

// Label is the expression of a label column (a checkpoint, a special
// action) in the form statistics group and filter by, server.LabelKey:
// NULL as ”, without its ASCII spaces and the other spaces around it,
// letters in upper case (for the labels stored before they had a
// canonical spelling).
func (d *Dialect) Label(col string) string {
	return "replace(" + d.UpperASCII(d.Trim+"(coalesce("+col+", ''), '"+server.LabelSpaces+"')") + ", ' ', '')"
}

// ScopeWhere is the condition (" AND county …") and its arguments that
// limit a query to scope: its counties and the global records (whose
// county is empty).
func (d *Dialect) ScopeWhere(s server.Scope) (string, []any) {
	return d.ScopeOf(s, "")
}

// ScopeOf is ScopeWhere for a table known by alias in a join ("" for
// none).
func (d *Dialect) ScopeOf(s server.Scope, alias string) (string, []any) {
	if s.All {
		return "", nil
	}
	col := "county"
	if alias != "" {
		col = alias + ".county"
	}
	w, args := d.In(col, append([]string{""}, s.Counties...))
	return " AND " + w, args
}

// LikePattern is a LIKE pattern matching text anywhere, with \ as the
// escape character: the text's own % and _ match only themselves.
func LikePattern(text string) string {
	return "%" + likeEscaper.Replace(text) + "%"
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// LoosePattern is the pattern (escaped as LikePattern's) of text's
// characters in their order with anything between them: "%尾%气%冒%" for
// 尾气冒. Text that holds text with characters that print nothing put
// inside it (尾\u200b气冒) matches it, as does any text LikePattern(text)
// matches; a search tries the slower reading of stored text without
// those characters (Dialect.Visible) only where it does.
func LoosePattern(text string) string {
	var b strings.Builder
	b.WriteByte('%')
	for _, r := range text {
		b.WriteString(likeEscaper.Replace(string(r)))
		b.WriteByte('%')
	}
	return b.String()
}

// ValidFlagName reports whether name may be put into a JSON path.
func ValidFlagName(name string) bool {
	if len(name) > 40 {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// InspectionWhere builds the WHERE clause of a review-queue query; the
// county filter is left out when withCounty is false (for the per-county
// counts, which show every county in scope).
func (d *Dialect) InspectionWhere(q server.InspectionQuery, withCounty bool) (string, []any) {
	where, args := d.ScopeWhere(q.Scope)
	w := " WHERE deleted_hlc = ''" + where
	in := func(col string, vals []string) {
		c, a := d.In(col, vals)
		w += " AND " + c
		args = append(args, a...)
	}
	if q.Status != "" && slices.Contains(server.ReviewStatuses, q.Status) {
		w += " AND status = ?"
		args = append(args, q.Status)
	} else {
		in("status", server.ReviewStatuses)
	}
	if withCounty && q.County != "" {
		w += " AND county = ?"
		args = append(args, q.County)
	}
	w, args = andIf(w, args, "template_id = ?", q.TemplateID)
	if len(q.TemplateIDs) > 0 {
		in("template_id", q.TemplateIDs)
	}
	if len(q.Counties) > 0 {
		in("county", q.Counties)
	}
	w, args = andIf(w, args, d.VisitDate("")+" >= ?", q.From)
	w, args = andIf(w, args, d.VisitDate("")+" <= ?", q.To)
	w, args = receivedAfter(w, args, q.ReceivedAfter)
	switch q.Completeness {
	case server.CompletenessComplete:
		w += " AND missing_items = '[]'"
	case server.CompletenessIncomplete:
		w += " AND missing_items != '[]'"
	}
	switch {
	case q.Flag == server.AnyFlag:
		w += ` AND ` + PhotoExists("inspection", d.AnyFlag("p.flags"))
	case q.Flag != "" && ValidFlagName(q.Flag):
		w += ` AND ` + PhotoExists("inspection", d.HasFlag("p.flags"))
		args = append(args, q.Flag)
	}
	return w, args
}

// InspectionOrder is the order of Inspections: newest first, by the
// time the console shows (VisitTime).
func (d *Dialect) InspectionOrder() string {
	return d.VisitTime("") + " DESC, created_at DESC, id"
}

// SiteWhere builds the WHERE clause of Sites, and its order: by county
// and name.
func (d *Dialect) SiteWhere(q server.SiteQuery) (where string, args []any, order string) {
	where, args = d.ScopeWhere(q.Scope)
	w := " WHERE deleted_hlc = ''" + where
	if text := server.SearchText(q.Text); text != "" {
		// In any of its spellings, as Search matches it.
		var or []string
		for _, v := range server.WidthVariants(text) {
			p, l := LikePattern(v), LoosePattern(v)
			for _, col := range []string{"id", "name", "address", "note"} {
				or = append(or, "(coalesce("+col+", '') "+d.Like+` ? ESCAPE '\' AND coalesce(`+d.Visible(col)+", '') "+d.Like+` ? ESCAPE '\')`)
				args = append(args, l, p)
			}
		}
		w += " AND (" + strings.Join(or, " OR ") + ")"
	}
	w, args = andIf(w, args, "kind = ?", q.Kind)
	w, args = andIf(w, args, "county = ?", q.County)
	return w, args, "county, name" + d.NullsFirst + ", id"
}

// VehicleCheckWhere builds the WHERE clause of VehicleChecks, and its
// order: the latest check first.
func (d *Dialect) VehicleCheckWhere(q server.VehicleQuery) (where string, args []any, order string) {
	where, args = d.ScopeWhere(q.Scope)
	w := " WHERE deleted_hlc = ''" + where
	w, args = andIf(w, args, "county = ?", q.County)
	for _, f := range []struct {
		col, val string
		none     bool
	}{{"checkpoint", q.Checkpoint, q.NoCheckpoint}, {"campaign", q.Campaign, q.NoCampaign}} {
		if f.none {
			w += " AND " + d.Label(f.col) + " = ''"
		} else if v := server.LabelKey(f.val); v != "" && q.Partial && f.col == "checkpoint" {
			// A part as an office types it: the spaces inside it, or
			// not, do not matter (G108 豆罗, G 108).
			w += " AND " + d.Label(f.col) + " " + d.Like + ` ? ESCAPE '\'`
			args = append(args, LikePattern(v))
		} else if v != "" {
			w += " AND " + d.Label(f.col) + " = ?"
			args = append(args, v)
		}
	}
	if p := server.CanonicalPlate(q.Plate); p != "" && q.Partial {
		// As Search matches plates stored before they had a canonical
		// spelling; and the VIN, which an office may have of a truck
		// whose plates were swapped (stored canonical: VIN's Canon).
		w += " AND (replace(replace(coalesce(plate, ''), ' ', ''), '·', '') " + d.Like + ` ? ESCAPE '\'` +
			" OR coalesce(vin, '') " + d.Like + ` ? ESCAPE '\')`
		args = append(args, LikePattern(p), LikePattern(p))
	} else if p != "" {
		w += " AND plate = ?"
		args = append(args, p)
	}
	if len(q.Plates) > 0 {
		w += " AND plate IN (?" + strings.Repeat(", ?", len(q.Plates)-1) + ")"
		for _, p := range q.Plates {
			args = append(args, p)
		}
	}
	switch q.Voided {
	case server.NotVoided:
		w += " AND voided_at IS NULL"
	case server.OnlyVoided:
		w += " AND voided_at IS NOT NULL"
	}
	if q.G6 || q.Removed {
		w += " AND emission_stage = ?"
		args = append(args, syncproto.StageCN6)
	}
	if q.Removed {
		w += " AND aftertreatment = ?"
		args = append(args, syncproto.AftertreatmentRemoved)
	}
	w, args = andIf(w, args, "action = ?", q.Action)
	w, args = andIf(w, args, "checked_at >= ?", q.After)
	w, args = andIf(w, args, "checked_at < ?", q.Before)
	w, args = receivedAfter(w, args, q.ReceivedAfter)
	if !q.ChangedAfter.IsZero() {
		w += " AND created_at <= ? AND updated_at > ?"
		args = append(args, q.ChangedAfter.UnixMilli(), q.ChangedAfter.UnixMilli())
	}
	return w, args, "checked_at DESC" + d.NullsLast + ", id"
}

// receivedAfter adds to the WHERE clause w the condition that the record
// was received after t (created_at, Unix ms), unless t is zero.
func receivedAfter(w string, args []any, t time.Time) (string, []any) {
	if t.IsZero() {
		return w, args
	}
	return w + " AND created_at > ?", append(args, t.UnixMilli())
}

// andIf adds " AND cond" to the WHERE clause w, and v as the argument of
// cond's one ?, when v is not "" (a filter not set adds nothing).
func andIf(w string, args []any, cond, v string) (string, []any) {
	if v == "" {
		return w, args
	}
	return w + " AND " + cond, append(args, v)
}
