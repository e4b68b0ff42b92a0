package sqlstore

import (
	"strings"

	"github.com/xinzhou-eco/fieldsync/internal/sqllit"
	"github.com/xinzhou-eco/fieldsync/server"
)

// SearchPart is the query of Search for one kind of record: a SELECT of
// the server.SearchHit columns (kind, id, county, title, text, status, at,
// inspector, inspection id) with its WHERE clause open for the scope of
// the table known by Alias (Dialect.ScopeOf), and its order.
type SearchPart struct {
	SQL   string
	Alias string
	Order string
}

// SearchParts are the queries of Search, one a kind of record, matching
// the LIKE pattern bound to pat (the store's placeholder for it, bound
// once and used by every column) case-insensitively for ASCII; a roadside
// check's plate and VIN also match the pattern bound to plate, the text's
// canonical plate spelling (SearchArgs), as they are stored.
func (d *Dialect) SearchParts(pat, plate string) []SearchPart {
	likeOf := func(pat string, cols ...string) string {
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = "coalesce(" + c + ", '') " + d.Like + " " + pat + " ESCAPE '\\'"
		}
		return strings.Join(parts, " OR ")
	}
	like := func(cols ...string) string { return "(" + likeOf(pat, cols...) + ")" }
	return []SearchPart{
		{`SELECT 'inspection', i.id, i.county, coalesce(s.name, ''), coalesce(i.summary, ''), coalesce(i.status, ''),
			coalesce(i.started_at, ''), coalesce(nullif(u.display_name, ''), u.username, ''), ''
			FROM inspection i LEFT JOIN site s ON s.id = i.site_id LEFT JOIN users u ON u.id = i.created_by
			WHERE i.deleted_hlc = '' AND i.status IN ` + sqllit.List(server.ReviewStatuses) + ` AND ` +
			like("i.id", "s.name", "s.address", "i.summary", d.AnswerText("i.answers"), "u.username", "u.display_name"), "i", "i.started_at DESC" + d.NullsLast + ", i.id"},
		{`SELECT 'finding', f.id, f.county, coalesce(s.name, ''), coalesce(f.description, ''), coalesce(f.status, ''),
			coalesce(i.started_at, ''), coalesce(nullif(u.display_name, ''), u.username, ''), coalesce(f.inspection_id, '')
			FROM finding f JOIN inspection i ON i.id = f.inspection_id LEFT JOIN site s ON s.id = i.site_id
			LEFT JOIN users u ON u.id = f.created_by
			WHERE f.deleted_hlc = '' AND i.deleted_hlc = '' AND i.status IN ` + sqllit.List(server.ReviewStatuses) + ` AND ` +
			like("f.id", "f.description", "f.rectification_note", "s.name", "u.username", "u.display_name"), "f", "i.started_at DESC" + d.NullsLast + ", f.id"},
		{`SELECT 'vehicle_check', v.id, v.county, coalesce(v.plate, ''), coalesce(v.checkpoint, ''), coalesce(v.action, ''),
			coalesce(v.checked_at, ''), coalesce(nullif(u.display_name, ''), u.username, ''), ''
			FROM vehicle_check v LEFT JOIN users u ON u.id = v.created_by
			WHERE v.deleted_hlc = '' AND ` +
			"(" + likeOf(pat, "v.id", "v.plate", "v.vin", "v.checkpoint", "v.note", "v.remote_sensing_id", "u.username", "u.display_name") +
			" OR " + likeOf(plate, "replace(replace(v.plate, ' ', ''), '·', '')", "v.vin") + ")", "v", "v.checked_at DESC" + d.NullsLast + ", v.id"},
		{`SELECT 'site', st.id, st.county, coalesce(st.name, ''), coalesce(st.address, ''), coalesce(st.kind, ''),
			'', '', ''
			FROM site st
			WHERE st.deleted_hlc = '' AND ` + like("st.id", "st.name", "st.address", "st.note"), "st", "st.name" + d.NullsFirst + ", st.id"},
	}
}

// SearchArgs returns what every store's Search binds for q: the LIKE
// pattern of its trimmed text, that of the text as a plate or VIN is
// stored (server.CanonicalPlate: "晋h·30272" and "LFV2A21K-5831" find what
// the phones stored; the text itself when that spelling is empty) and the
// limit of hits of each kind (50 when q.Limit is not positive); ok is
// false for an empty text, which finds nothing.
func SearchArgs(q server.SearchQuery) (pat, plate string, limit int, ok bool) {
	text := strings.TrimSpace(q.Text)
	if text == "" {
		return "", "", 0, false
	}
	limit = q.Limit
	if limit <= 0 {
		limit = 50
	}
	p := server.CanonicalPlate(text)
	if p == "" {
		p = text
	}
	return LikePattern(text), LikePattern(p), limit, true
}

// ReadSearchHits appends the hits of one SearchPart's rows to out. It does
// not close rows.
func ReadSearchHits(rows Rows, out []server.SearchHit) ([]server.SearchHit, error) {
	for rows.Next() {
		var h server.SearchHit
		if err := rows.Scan(&h.Kind, &h.ID, &h.County, &h.Title, &h.Text, &h.Status, &h.At, &h.Inspector, &h.InspectionID); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
