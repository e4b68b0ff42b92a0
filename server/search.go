package server

import (
	"slices"
	"strings"
	"unicode"
)

// SearchQuery is an office's free-text search across its records.
type SearchQuery struct {
	Scope Scope
	// Text is matched as a substring (ASCII letters in any case) against
	// record ids, site names and addresses, plate numbers and VINs,
	// inspectors' names and usernames, and the text of inspections'
	// summaries and answers, findings and roadside checks (their notes
	// and OBD fault codes).
	Text string
	// Limit caps the hits of each kind (50 when not positive).
	Limit int
}

// Kinds of SearchHit.
const (
	HitInspection   = "inspection"
	HitFinding      = "finding"
	HitVehicleCheck = "vehicle_check"
	HitSite         = "site"
)

// SearchHit is one record a search found.
type SearchHit struct {
	Kind   string // one of the Hit kinds
	ID     string
	County string
	// Title is what names the record: an inspection's or finding's site,
	// a roadside check's plate, a site's name.
	Title string
	// Text is the record's text: a summary, a finding's description, a
	// check's checkpoint, a site's address.
	Text string
	// Status is an inspection's or finding's status, a site's kind or a
	// check's action.
	Status string
	// At is when the visit or check began (RFC 3339 as the phone wrote
	// it); "" for sites.
	At string
	// Inspector is the name of the user who made the record, if known.
	Inspector string
	// InspectionID is a finding's inspection.
	InspectionID string
	// Received: At is when the server received the inspection, which
	// was sent without the time its visit began.
	Received bool
	// Voided: an office voided the roadside check.
	Voided bool
}

// SearchSpellings returns the spellings a search for s matches, s
// trimmed: as typed, in each width (WidthVariants: ｇ５ finds G5), and,
// when it looks like a plate number, as plates are stored too
// (CanonicalPlate: 晋h 30272, 晋H·30272 and 晋Ｈ３０２７２ all find
// 晋H30272). Text is kept as typed, so the plate an inspector wrote in
// an answer or a note, 晋H·D1234, is found by typing it as written.
func SearchSpellings(s string) []string {
	s = SearchText(s)
	if s == "" {
		return nil
	}
	out := WidthVariants(s)
	if p := CanonicalPlate(s); plateLike(p) {
		for _, v := range WidthVariants(p) {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// SearchText is the text a search for s looks for: what a keyboard or a
// paste adds that no one means to search by left out — characters that
// print nothing (a zero-width space, a direction mark) — and every run of
// spaces of any kind (the ideographic space of a Chinese keyboard) one
// space, trimmed.
func SearchText(s string) string {
	return strings.Join(strings.FieldsFunc(Visible(s), unicode.IsSpace), " ")
}

// Visible returns s without its format characters (Unicode's Cf: a
// zero-width space, a word joiner, a direction mark, a soft hyphen),
// which print nothing. Free text may hold them (a paste from a chat
// brings them), and search matches stored text so read
// (sqlstore.Dialect.Visible), as it reads what was typed (SearchText):
// 尾气\u200b冒黑烟 is found by 尾气冒黑烟, and the other way round.
func Visible(s string) string {
	if !strings.ContainsFunc(s, isFormat) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isFormat(r) {
			return -1
		}
		return r
	}, s)
}

func isFormat(r rune) bool { return unicode.Is(unicode.Cf, r) }

// plateLike reports whether s looks like a Chinese plate number: a
// province's character followed by letters, digits, spaces or dots.
func plateLike(s string) bool {
	r := []rune(s)
	if len(r) < 3 || r[0] < 0x4e00 {
		return false
	}
	for _, c := range r[1:] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ' || c == '·' || c == '•' || c == '-' || c == '挂' || c == '学') {
			return false
		}
	}
	return true
}

// SiteQuery selects sites for the console's sites page and map.
type SiteQuery struct {
	Scope Scope
	// Text matches a site's id, name, address or note as a substring.
	Text string
	// Kind and County filter by equality; "" is any.
	Kind, County string
	// Limit and Offset page the list (by county, then name); a Limit
	// that is not positive means 50.
	Limit, Offset int
}
