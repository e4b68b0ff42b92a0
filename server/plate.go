package server

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Plate is the form of a vehicle's plate number (号牌号码, GA 36): one
// line of visible text (OneLine) that, in the spelling CanonicalPlate
// gives, is a mainland province's abbreviation (PlateProvinces), a
// letter, and five letters and digits, or six on a new-energy plate (D or
// F, a letter or digit and four digits; or five digits and D or F), or
// four and the character a trailer's, a driving school's or a police
// plate ends with (挂, 学, 警 …), without the letters I and O (read as 1
// and 0). Stored in that spelling, so that a plate typed on a phone's
// full-width keyboard, in lower case or with the dot or space painted on
// the plate is found and counted as the same plate. An embassy's plate is
// 使 and six digits. The field app refuses what this refuses.
var Plate = &TextFormat{Valid: validPlate, Canon: CanonicalPlate,
	Label: "车牌号：省份简称、一位字母，再 5 位字母或数字（新能源车 6 位：D 或 F、一位字母或数字、4 位数字，或 5 位数字加 D 或 F；挂车、教练车等 4 位加“挂”“学”等），不含字母 I、O，可含空格、点和横线，如 晋H12345、晋HD12345、晋H1234挂",
	Doc: "a plate number (GA 36): a mainland province's abbreviation (晋, 冀, 蒙 … the 31), a letter A–Z, then 5 letters or digits, " +
		"or on a new-energy plate 6: D or F, a letter or digit and 4 digits (small, `晋HD12345`) or 5 digits and D or F (large, `晋H12345D`), " +
		"or 4 and one of 挂 学 警 领 试 超 港 澳 使; an embassy's, 使 and 6 digits; no letter I or O; spaces, dots, hyphens or dashes may separate its parts; " +
		"stored as its canonical spelling: full-width letters and digits as ASCII, " +
		"letters upper-case, spaces, dots, hyphens, dashes and minus signs removed (`晋ｈ·３０２７２` is stored as `晋H30272`)"}

// PlateProvinces are the 31 mainland provinces' abbreviations a plate
// begins with (GB/T 2260 order), as the field app offers them.
const PlateProvinces = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"

// plateSuffixes end a plate of four letters or digits after its letter:
// a trailer's, a driving school's, a police car's, a consulate's, a test
// or an oversize vehicle's, a cross-border one's (Hong Kong, Macau), an
// embassy's.
const plateSuffixes = "挂学警领试超港澳使"

// VIN is the form of a vehicle identification number (车辆识别代号, GB
// 16735): Plate's, and once canonical 17 letters and digits without I, O
// or Q (read as 1 and 0). A VIN is what ties a truck to its owner when
// its plates are swapped: a short or misread one ties it to nobody.
var VIN = &TextFormat{Valid: validVIN, Canon: CanonicalPlate,
	Label: "17 位车辆识别代号：英文字母和数字，不含 I、O、Q，可含空格、点和横线",
	Doc: "a vehicle identification number (GB 16735): 17 Latin letters and digits without I, O or Q, with spaces, dots, hyphens or dashes between them; " +
		"stored as its canonical spelling as a plate is (full-width as ASCII, upper case, separators removed: `lfv2a21k 5831 23456` is stored as `LFV2A21K583123456`)"}

// validVIN reports whether s has the form of a VIN (VIN).
func validVIN(s string) bool {
	if !OneLine.Valid(s) {
		return false
	}
	c := CanonicalPlate(s)
	if len(c) != 17 {
		return false
	}
	for _, r := range c {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') || r == 'I' || r == 'O' || r == 'Q' {
			return false
		}
	}
	return true
}

// validPlate reports whether s has the form of a plate number (Plate).
func validPlate(s string) bool {
	if !OneLine.Valid(s) {
		return false
	}
	c := []rune(CanonicalPlate(s))
	alnum := func(r rune) bool { return (r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') && r != 'I' && r != 'O' }
	if len(c) == 7 && c[0] == '使' { // an embassy's: 使 and six digits
		return allDigits(c[1:])
	}
	if len(c) < 7 || len(c) > 8 || !strings.ContainsRune(PlateProvinces, c[0]) || !(c[1] >= 'A' && c[1] <= 'Z') || c[1] == 'I' || c[1] == 'O' {
		return false
	}
	rest := c[2:]
	if last := rest[len(rest)-1]; len(rest) == 5 && strings.ContainsRune(plateSuffixes, last) {
		rest = rest[:4]
	}
	if len(rest) == 6 && !newEnergySerial(rest) {
		return false
	}
	return !slices.ContainsFunc(rest, func(r rune) bool { return !alnum(r) })
}

// allDigits reports whether rs are all ASCII digits.
func allDigits(rs []rune) bool {
	return !slices.ContainsFunc(rs, func(r rune) bool { return r < '0' || r > '9' })
}

// newEnergySerial reports whether the six characters after a plate's
// letter are a new-energy vehicle's (GA 36-2018): D (electric) or F (not
// only electric), a letter or digit and four digits on a small vehicle's
// plate (晋HD12345, 晋HFA1234); five digits and D or F on a large one's
// (晋H12345D). A six-character serial is nothing else's.
func newEnergySerial(s []rune) bool {
	ev := func(r rune) bool { return r == 'D' || r == 'F' }
	return ev(s[0]) && allDigits(s[2:]) || allDigits(s[:5]) && ev(s[5])
}

// CanonicalPlate returns the canonical spelling of a plate number or VIN:
// full-width ASCII (what a Chinese keyboard types in full-width mode) as
// ASCII, letters in upper case, and no spaces, dots or hyphens (the
// separators printed on plates or typed between their parts). Other
// characters — the province, 挂, 学, 警 — are kept. It returns s itself,
// without allocating, when s is canonical already.
func CanonicalPlate(s string) string {
	if !strings.ContainsFunc(s, plateFolds) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		if !plateSeparator(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NarrowASCII returns s with full-width ASCII (what a Chinese keyboard
// types in full-width mode: ｉｎｓｐｅｃｔｏｒ) as ASCII and the ideographic
// space as an ASCII space; s itself when it has neither.
func NarrowASCII(s string) string {
	wide := func(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E || r == '\u3000' }
	if !strings.ContainsFunc(s, wide) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3000':
			return ' '
		case wide(r):
			return r - 0xFEE0
		}
		return r
	}, s)
}

// plateFolds reports whether CanonicalPlate changes or drops r.
func plateFolds(r rune) bool {
	return r >= 0xFF01 && r <= 0xFF5E || r >= 'a' && r <= 'z' || plateSeparator(r)
}

// LabelText is the form of a label the statistics count by (a
// checkpoint): one line of visible text (OneLine), stored in the spelling
// CanonicalLabel gives, so that one checkpoint typed twice is one row.
var LabelText = &TextFormat{Valid: OneLine.Valid, Canon: CanonicalLabel, Label: OneLine.Label,
	Doc: OneLine.Doc + "; stored as its canonical spelling: " + labelDoc}

// NoCampaign is what the statistics call the roadside checks made
// outside any special action (专项行动): no action may be named so, or
// its checks would share that row with them.
const NoCampaign = "未列入专项行动"

// CampaignText is the form of a special action's name: OptionalLabelText,
// but not NoCampaign however spaced (a campaign typed 未列入专项行动
// made a second row of that label on 路检路查).
var CampaignText = &TextFormat{Valid: func(s string) bool { return NoControls.Valid(s) && LabelKey(s) != NoCampaign },
	Canon: CanonicalLabel, Label: NoControls.Label + "，且不能是“" + NoCampaign + "”（不属于专项行动时请留空）",
	Doc: OptionalLabelText.Doc + "; not `" + NoCampaign + "` (what the statistics call the checks outside any action: leave it empty for those)"}

// OptionalLabelText is LabelText for a label that may be empty (a
// special action).
var OptionalLabelText = &TextFormat{Valid: NoControls.Valid, Canon: CanonicalLabel, Label: NoControls.Label,
	Doc: NoControls.Doc + "; stored as its canonical spelling: " + labelDoc}

const labelDoc = "no spaces around it nor next to a Chinese character or punctuation, one ASCII space for each other run of spaces inside, " +
	"full-width letters and digits as ASCII, letters (any alphabet) in upper case, in Unicode NFC (`ｇ１０８ 检查站　` is stored as `G108检查站`, `秦城 检查站` as `秦城检查站`, `S316  K12` as `S316 K12`, `Cafe\u0301` as `CAFÉ`); " +
	"the console's statistics count labels that differ only in their spaces as one, shown without them (`S316 K12` and `S316K12` as `S316K12`)"

// CanonicalLabel returns the canonical spelling of a label: without the
// spaces around it (any Unicode space separator) or next to a Chinese
// character or punctuation (秦城 检查站 and G108 检查站, typed with a
// Chinese IME's space, are 秦城检查站 and G108检查站), each other run of
// spaces inside it one ASCII space, full-width letters and digits as
// ASCII, letters in upper case, any letter (a road's number, G5 or g5, is
// one checkpoint; so are Café and CAFÉ), and in Unicode's composed form,
// NFC (an é typed as e and a combining accent is the é typed at once; a
// CJK compatibility ideograph is its unified one). Chinese punctuation
// such as （） is kept as typed. It returns s itself when s is canonical
// already.
func CanonicalLabel(s string) string {
	canonical, space := true, true // space: the last rune was a space (or none yet)
	prev := rune(-1)
	for _, r := range s {
		isSpace := isSpaceSep(r)
		if isSpace && (space || r != ' ' || wideText(prev)) || !isSpace && space && prev >= 0 && wideText(r) ||
			fullWidthAlnum(r) || unicode.ToUpper(r) != r {
			canonical = false
			break
		}
		space = isSpace
		if !isSpace {
			prev = r
		}
	}
	if canonical && !space && norm.NFC.IsNormalString(s) || s == "" {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pending, last := false, rune(-1)
	for _, r := range strings.TrimFunc(norm.NFC.String(s), isSpaceSep) {
		if isSpaceSep(r) {
			pending = true
			continue
		}
		if fullWidthAlnum(r) {
			r -= 0xFEE0
		}
		r = unicode.ToUpper(r)
		if pending && !wideText(last) && !wideText(r) {
			b.WriteByte(' ')
		}
		pending, last = false, r
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// wideText reports whether r is a Chinese character (Han) or Chinese
// punctuation (CJK symbols and punctuation but the ideographic space,
// full-width forms): a space next to one is no part of a label.
func wideText(r rune) bool {
	return r > 0x3000 && r <= 0x303f || r >= 0xff01 && r <= 0xff60 || r >= 0xffe0 && r <= 0xffe6 || unicode.Is(unicode.Han, r)
}

// WidthVariants returns s and the spellings of it a search must also
// match, without folding what is stored: its full-width characters —
// letters, digits, punctuation (１００％), the ideographic space — in
// ASCII (ｇ５, what a phone's IME may type, as g5), and its letters,
// digits and punctuation full-width in upper and in lower case (Ｇ５, ｇ５:
// a LIKE ignores the case of ASCII letters only). A text with none of
// them is its only spelling.
func WidthVariants(s string) []string {
	narrow := strings.Map(func(r rune) rune {
		switch {
		case r >= '！' && r <= '～':
			return r - 0xFEE0
		case r == '\u3000':
			return ' '
		}
		return r
	}, s)
	wide := func(letter func(rune) rune) string {
		return strings.Map(func(r rune) rune {
			if r > ' ' && r <= '~' {
				return letter(r) + 0xFEE0
			}
			return r
		}, narrow)
	}
	out := []string{s}
	for _, v := range []string{narrow, wide(unicode.ToUpper), wide(unicode.ToLower)} {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// fullWidthAlnum reports whether r is a full-width letter or digit.
func fullWidthAlnum(r rune) bool {
	return r >= '０' && r <= '９' || r >= 'Ａ' && r <= 'Ｚ' || r >= 'ａ' && r <= 'ｚ'
}

// plateSeparator reports whether r separates a plate's parts rather than
// being one: a space of any kind, a dot (the middle dot, the bullet, the
// katakana middle dot, a full stop, the dot operators) or a dash of any
// kind (Unicode's Pd, and the minus sign a phone's keyboard offers).
func plateSeparator(r rune) bool {
	switch r {
	case '·', '•', '‧', '・', '･', '.', '。', '∙', '⋅', '·', '−', '⁃':
		return true
	}
	return isSpaceSep(r) || unicode.Is(unicode.Pd, r)
}

// isSpaceSep reports whether r is a space (Unicode's Zs, the characters of
// LabelSpaces): line breaks and tabs are not, and the forms refuse them.
func isSpaceSep(r rune) bool { return unicode.Is(unicode.Zs, r) }
