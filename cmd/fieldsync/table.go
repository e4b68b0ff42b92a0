package main

import (
	"io"
	"strings"

	"golang.org/x/text/width"
)

// table prints rows in columns two spaces apart, padded by the width a
// terminal gives each character: a Chinese name takes two columns per
// character, which text/tabwriter counted as one, so every column after
// a Chinese name stood out of line.
type table struct{ rows [][]string }

// row adds a row.
func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the rows to w; the last column is not padded.
func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth is how many terminal columns s takes: two for a wide or
// full-width character (Chinese, full-width letters), one for others.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
