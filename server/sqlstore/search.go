package sqlstore

import (
	"slices"
	"strings"
	"sync"

	"github.com/xinzhou-eco/fieldsync/internal/sqllit"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
)

// SearchPart is the query of Search for one kind of record: a SELECT of
// the server.SearchHit columns (kind, id, county, title, text, status, at,
// inspector, inspection id, received, voided) with its WHERE clause open for the scope of
// the table known by Alias (Dialect.ScopeOf), and its order.
type SearchPart struct {
	SQL   string
	Alias string
	Order string
}

// SearchParts are the queries of Search, one a kind of record, matching
// any of the LIKE patterns bound to texts (the store's placeholders for
// them, each bound once and used by every column: the text in each of its
// spellings, SearchBind.Texts, and loose, SearchBind.Loose, the same
// spellings' loose patterns) case-insensitively for ASCII; a roadside
// check's plate and VIN also match the pattern bound to plate, the text's
// canonical plate spelling, as they are stored.
func (d *Dialect) SearchParts(texts, loose []string, plate string) []SearchPart {
	// Text is matched as a person reads it: without the format characters
	// a paste brings (Visible), as the query is (server.SearchText). The
	// stored text is read so only where it matches the loose pattern of
	// the same spelling (LoosePattern: its characters in order, anything
	// between them), as any text that matches so does: nearly every row
	// is refused by one LIKE, as it was before.
	like := func(cols ...string) string {
		var parts []string
		for _, c := range cols {
			for i, p := range texts {
				parts = append(parts, "(coalesce("+c+", '') "+d.Like+" "+loose[i]+" ESCAPE '\\' AND coalesce("+d.Visible(c)+", '') "+d.Like+" "+p+" ESCAPE '\\')")
			}
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	}
	answers := d.AnswerText("i.answers", sqllit.List(choiceKeys()))
	// An inspection sent without started_at is at the time the server
	// received it (VisitTime), said so.
	noStart := "CASE WHEN coalesce(i.started_at, '') = '' THEN true ELSE false END"
	return []SearchPart{
		{`SELECT 'inspection', i.id, i.county, coalesce(s.name, ''), coalesce(i.summary, ''), coalesce(i.status, ''),
			` + d.VisitTime("i") + `, coalesce(nullif(u.display_name, ''), u.username, ''), '', ` + noStart + `, false
			FROM inspection i LEFT JOIN site s ON s.id = i.site_id LEFT JOIN users u ON u.id = i.created_by
			WHERE i.deleted_hlc = '' AND i.status IN ` + sqllit.List(server.ReviewStatuses) + ` AND ` +
			like("i.id", "s.name", "s.address", "i.summary", "i.review_comment", answers, "u.username", "u.display_name"), "i", d.VisitTime("i") + " DESC, i.id"},
		{`SELECT 'finding', f.id, f.county, coalesce(s.name, ''), coalesce(f.description, ''), coalesce(f.status, ''),
			` + d.VisitTime("i") + `, coalesce(nullif(u.display_name, ''), u.username, ''), coalesce(f.inspection_id, ''), ` + noStart + `, false
			FROM finding f JOIN inspection i ON i.id = f.inspection_id LEFT JOIN site s ON s.id = i.site_id
			LEFT JOIN users u ON u.id = f.created_by
			WHERE f.deleted_hlc = '' AND i.deleted_hlc = '' AND i.status IN ` + sqllit.List(server.ReviewStatuses) + ` AND ` +
			like("f.id", "f.description", "f.rectification_note", "f.verify_comment", "s.name", "u.username", "u.display_name"), "f", d.VisitTime("i") + " DESC, f.id"},
		{`SELECT 'vehicle_check', v.id, v.county, coalesce(v.plate, ''), coalesce(v.checkpoint, ''), coalesce(v.action, ''),
			coalesce(v.checked_at, ''), coalesce(nullif(u.display_name, ''), u.username, ''), '', false,
			CASE WHEN coalesce(v.voided_at, '') <> '' THEN true ELSE false END
			FROM vehicle_check v LEFT JOIN users u ON u.id = v.created_by
			WHERE v.deleted_hlc = '' AND ` +
			"(" + like("v.id", "v.plate", "v.vin", "v.checkpoint", "v.note", "v.obd_codes", "v.remote_sensing_id", "v.void_reason", "u.username", "u.display_name") +
			" OR coalesce(replace(replace(v.plate, ' ', ''), '·', ''), '') " + d.Like + " " + plate + " ESCAPE '\\'" +
			" OR coalesce(v.vin, '') " + d.Like + " " + plate + " ESCAPE '\\')", "v", "v.checked_at DESC" + d.NullsLast + ", v.id"},
		{`SELECT 'site', st.id, st.county, coalesce(st.name, ''), coalesce(st.address, ''), coalesce(st.kind, ''),
			'', '', '', false, false
			FROM site st
			WHERE st.deleted_hlc = '' AND ` + like("st.id", "st.name", "st.address", "st.note"), "st", "st.name" + d.NullsFirst + ", st.id"},
	}
}

// choiceKeys are the keys of the choice items of every checklist in the
// catalogue (a key is a choice in every checklist that has it): their
// answers' values are option codes, which no one searches by.
var choiceKeys = sync.OnceValue(func() []string {
	set, err := seeds.Load()
	if err != nil {
		return []string{""} // the embedded seeds are checked by their tests
	}
	var keys []string
	for _, t := range set.Templates {
		for _, it := range t.Items {
			if it.Type == seeds.ItemTypeChoice && !slices.Contains(keys, it.Key) {
				keys = append(keys, it.Key)
			}
		}
	}
	if len(keys) == 0 {
		return []string{""} // NOT IN () is no SQL
	}
	return keys
})

// SearchBind is what every store's Search binds for a query.
type SearchBind struct {
	// Texts are the LIKE patterns of the trimmed text in each of its
	// spellings (server.SearchSpellings: "ｇ５" finds G5, and "G5" finds
	// Ｇ５ and ｇ５; "晋H·D1234" finds itself and 晋HD1234).
	Texts []string
	// Loose are the loose patterns of the same spellings (LoosePattern),
	// one for each of Texts.
	Loose []string
	// Plate is the pattern of the text as a plate or VIN is stored
	// (server.CanonicalPlate: "晋h·30272" and "LFV2A21K-5831" find what
	// the phones stored; the text itself when that spelling is empty).
	Plate string
	// Limit is the most hits of each kind (50 when the query's is not
	// positive).
	Limit int
}

// SearchArgs returns what every store's Search binds for q; ok is false
// for an empty text, which finds nothing.
func SearchArgs(q server.SearchQuery) (b SearchBind, ok bool) {
	text := server.SearchText(q.Text)
	if text == "" {
		return b, false
	}
	b.Limit = q.Limit
	if b.Limit <= 0 {
		b.Limit = 50
	}
	p := server.CanonicalPlate(text)
	if p == "" {
		p = text
	}
	for _, v := range server.SearchSpellings(text) {
		b.Texts = append(b.Texts, LikePattern(v))
		b.Loose = append(b.Loose, LoosePattern(v))
	}
	b.Plate = LikePattern(p)
	return b, true
}

// ReadSearchHits appends the hits of one SearchPart's rows to out. It does
// not close rows.
func ReadSearchHits(rows Rows, out []server.SearchHit) ([]server.SearchHit, error) {
	for rows.Next() {
		var h server.SearchHit
		if err := rows.Scan(&h.Kind, &h.ID, &h.County, &h.Title, &h.Text, &h.Status, &h.At, &h.Inspector, &h.InspectionID, &h.Received, &h.Voided); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
