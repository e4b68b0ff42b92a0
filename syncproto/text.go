package syncproto

import (
	"strings"
	"unicode"
)

// Blank reports whether a text shows nothing: it has only white space,
// characters that print nothing (format characters such as U+200B, the
// default-ignorable ones such as the Hangul fillers, variation selectors,
// the blank braille pattern U+2800) and combining marks with nothing to
// combine with. A required text so made — an answer, a name, a return's
// comment — says nothing, and counts as not given.
func Blank(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r),
			unicode.Is(unicode.Variation_Selector, r), r == '\u2800', r == '\u034f',
			unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r):
		default:
			return false
		}
	}
	return true
}

// FreeText reports whether s is text a person may type on any number of
// lines (a note, a description, a comment): no control character but the
// line breaks and the tab, no character that reverses or hides what
// follows it (direction embeddings, overrides and isolates), and no
// noncharacter (U+FFFE, U+FFFF, U+FDD0–U+FDEF and the last two of every
// plane), which no keyboard types and which exports turn into U+FFFD.
// Zero-width joiners stay: emoji sequences need them.
func FreeText(s string) bool {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
		case unicode.IsControl(r), r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', noncharacter(r):
			return false
		}
	}
	return true
}

// NoControls reports whether s is text on one line: no control character
// (C0, C1, the tab and line breaks too), no line or paragraph separator, no
// format character (Unicode's Cf: zero-width spaces and joiners,
// direction marks and overrides, the byte-order mark, the soft hyphen) and
// no noncharacter (as FreeText) — what a name, a plate or a number read on
// one line may hold: whatever free text refuses, it refuses too.
func NoControls(s string) bool {
	_, found := FirstControl(s)
	return !found
}

// FirstControl returns the first character of s that NoControls refuses
// (a zero-width space pasted into a plate), for messages that name it.
func FirstControl(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) || noncharacter(r) {
			return r, true
		}
	}
	return 0, false
}

// OneLineText returns s with what NoControls refuses taken out, for text
// the server passes on from elsewhere rather than checks (a photo's EXIF
// camera make and model, shown beside the evidence): a control character
// or a line or paragraph separator becomes a space (one, beside another),
// a format character
// (a direction override, a zero-width space) or a noncharacter goes, and
// the ends are trimmed of spaces.
func OneLineText(s string) string {
	if NoControls(s) {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	gap := false // a control since the last character written
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			gap = true
		case unicode.Is(unicode.Cf, r) || noncharacter(r):
		default:
			if gap && r != ' ' && b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
				b.WriteByte(' ')
			}
			gap = false
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// noncharacter reports whether r is one of Unicode's noncharacters:
// U+FDD0–U+FDEF and the last two code points of every plane.
func noncharacter(r rune) bool {
	return r >= '\ufdd0' && r <= '\ufdef' || r&0xfffe == 0xfffe
}
