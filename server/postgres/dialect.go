package postgres

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// dialect is PostgreSQL's side of the SQL this store shares with the
// SQLite one (sqlstore). Lists are bound as one text[] argument; ILIKE on
// the "C" collation ignores ASCII case, as SQLite's LIKE does; NULLs sort
// as in SQLite.
var dialect = &sqlstore.Dialect{
	In: func(col string, vals []string) (string, []any) {
		return col + " = ANY(?)", []any{vals}
	},
	InBands: func(col string, vals []uint32) (string, []any) {
		ints := make([]int32, len(vals))
		for i, v := range vals {
			ints[i] = int32(v)
		}
		return col + " = ANY(?::integer[])", []any{ints}
	},
	Like: "ILIKE",
	Visible: func(expr string) string {
		return "regexp_replace(" + expr + ", '[" + formatClass + "]', '', 'g')"
	},
	Trim: "btrim",
	// upper in the C collation folds ASCII letters only, as SQLite's.
	UpperASCII: func(expr string) string { return "upper((" + expr + ") COLLATE \"C\")" },
	ChinaTime: func(msCol string) string {
		return "(to_char(to_timestamp(" + msCol + " / 1000.0) AT TIME ZONE 'UTC' + interval '8 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00')"
	},
	NullsFirst: " NULLS FIRST",
	NullsLast:  " NULLS LAST",
	AnswerText: func(column, skip string) string {
		// In the C collation, as every text column: jsonb's text takes the
		// database's, whose ILIKE may fold letters beyond ASCII.
		return `(SELECT string_agg(coalesce(a.value->>'note', '') || chr(10) ||
			CASE WHEN jsonb_typeof(a.value->'value') = 'string' AND a.key NOT IN ` + skip + ` THEN a.value->>'value' ELSE '' END, chr(10)) COLLATE "C"
			FROM jsonb_each(CASE WHEN jsonb_typeof(` + column + `::jsonb) = 'object' THEN ` + column + `::jsonb ELSE '{}'::jsonb END) a
			WHERE jsonb_typeof(a.value) = 'object')`
	},
	// The key present, whatever its value, as SQLite's
	// json_type(…, '$.key') IS NOT NULL.
	HasFlag: func(column string) string {
		return `(CASE WHEN jsonb_typeof(` + column + `::jsonb) = 'object' THEN jsonb_exists(` + column + `::jsonb, ?::text) ELSE false END)`
	},
	AnyFlag: func(column string) string {
		return `(` + column + ` IS NOT NULL AND ` + column + ` NOT IN ('{}', '[]', 'null'))`
	},
	Queue: sqlstore.QueueJSON{
		Failed: `coalesce(jsonb_array_length(CASE WHEN jsonb_typeof(inspection.failed_items::jsonb) = 'array' THEN inspection.failed_items::jsonb END), 0)`,
		Missing: `CASE WHEN jsonb_typeof(inspection.missing_items::jsonb) = 'array' THEN
		(SELECT count(DISTINCT m->>'key') FROM jsonb_array_elements(inspection.missing_items::jsonb) m) ELSE -1 END`,
	},
}

// formatClass is the format characters (formatRanges) as the
// inside of a regular expression's class, in its escapes (\uXXXX,
// \UXXXXXXXX), which keep the statement's text readable.
var formatClass = func() string {
	var b strings.Builder
	esc := func(r rune) string {
		if r > 0xffff {
			return fmt.Sprintf(`\U%08X`, r)
		}
		return fmt.Sprintf(`\u%04X`, r)
	}
	for _, r := range formatRanges() {
		b.WriteString(esc(r[0]))
		if r[1] != r[0] {
			b.WriteString("-" + esc(r[1]))
		}
	}
	return b.String()
}()

// formatRanges are the ranges of the format characters (Unicode's Cf,
// which server.Visible leaves out), lowest first.
func formatRanges() [][2]rune {
	var out [][2]rune
	add := func(lo, hi, stride rune) {
		if stride == 1 {
			out = append(out, [2]rune{lo, hi})
			return
		}
		for r := lo; r <= hi; r += stride {
			out = append(out, [2]rune{r, r})
		}
	}
	for _, r := range unicode.Cf.R16 {
		add(rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	for _, r := range unicode.Cf.R32 {
		add(rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	return out
}
