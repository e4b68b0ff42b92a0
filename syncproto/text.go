package syncproto

import "unicode"

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
