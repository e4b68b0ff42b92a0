package sqlite

import (
	"database/sql"
	"strconv"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// dialect is SQLite's side of the SQL this store shares with the
// PostgreSQL one (sqlstore).
var dialect = &sqlstore.Dialect{
	In: func(col string, vals []string) (string, []any) {
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		return col + " IN (" + placeholders(len(vals)) + ")", args
	},
	InBands: func(col string, vals []uint32) (string, []any) {
		b := make([]byte, 0, 8*len(vals)+2)
		b = append(b, '[')
		for i, v := range vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(v), 10)
		}
		return col + " IN (SELECT value FROM json_each(?))", []any{string(append(b, ']'))}
	},
	Like: "LIKE",
	// server.Visible, registered on every connection of the store: a
	// statement that reads all text so would take seven times a LIKE's
	// time, but a search asks for it only where a LIKE matched first.
	Visible: func(expr string) string { return "visible_text(" + expr + ")" },
	Trim:    "trim",
	// SQLite's upper folds ASCII letters only (there is no ICU here).
	UpperASCII: func(expr string) string { return "upper(" + expr + ")" },
	ChinaTime: func(msCol string) string {
		return "(strftime('%Y-%m-%dT%H:%M:%S', " + msCol + " / 1000, 'unixepoch', '+8 hours') || '+08:00')"
	},
	AnswerText: func(column, skip string) string {
		return `(SELECT group_concat(coalesce(json_extract(a.value, '$.note'), '') || char(10) ||
			CASE WHEN json_type(a.value, '$.value') = 'text' AND a.key NOT IN ` + skip + ` THEN json_extract(a.value, '$.value') ELSE '' END, char(10))
			FROM json_each(CASE WHEN json_valid(` + column + `) AND json_type(` + column + `) = 'object' THEN ` + column + ` ELSE '{}' END) a
			WHERE a.type = 'object')`
	},
	// A key of the flags object: json_type is NULL for a missing key, and
	// for text that is not JSON the object is {}.
	HasFlag: func(column string) string {
		return `(json_valid(` + column + `) AND json_type(CASE WHEN json_valid(` + column + `) THEN ` + column +
			` ELSE '{}' END, '$.' || ?) IS NOT NULL)`
	},
	AnyFlag: func(column string) string {
		return `(json_valid(` + column + `) AND ` + column + ` NOT IN ('{}', '[]', 'null'))`
	},
	Queue: sqlstore.QueueJSON{
		Failed: `coalesce(json_array_length(CASE WHEN json_valid(inspection.failed_items) THEN inspection.failed_items END), 0)`,
		Missing: `CASE WHEN json_valid(inspection.missing_items) THEN
		(SELECT count(DISTINCT json_extract(m.value, '$.key')) FROM json_each(inspection.missing_items) m) ELSE -1 END`,
	},
}

// driverName is go-sqlite3 with the functions this store's SQL calls
// registered on each connection: visible_text (Dialect.Visible).
const driverName = "sqlite3_fieldsync"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return c.RegisterFunc("visible_text", server.Visible, true)
	}})
}
