package scan

// Card brands, as Match.Brand reports them.
const (
	BrandVisa       = "visa"
	BrandMastercard = "mastercard"
	BrandAmex       = "amex"
	BrandDiscover   = "discover"
	BrandJCB        = "jcb"
	BrandDiners     = "diners"
	BrandUnionPay   = "unionpay"
)

const (
	minCardDigits = 12
	maxCardDigits = 19
	maxCardGroups = 5
)

// digits runs the detectors that a digit at the start of a word can
// start, at i, and returns the index from which the scan goes on: the end
// of the digit run, or of what was found.
func (sc *scanner[T]) digits(i int) int {
	s := sc.s
	j := spanEnd(s, i, len(s), cDigit)
	if !cardLeftEdge(s, i) {
		return j
	}

	if sc.on(SetCard) {
		switch run := j - i; {
		case run >= minCardDigits && run <= maxCardDigits:
			if cardRightEdge(s, j) && sc.cardAt(i, j) {
				return j
			}
		case run == 4:
			if end := sc.groupedCard(i, j); end > 0 {
				return end
			}
		}
	}

	end, run := -1, j-i
	if sc.on(SetSSN) && (run == 3 || run == 9) {
		end = sc.ssn(i, j)
	}
	if end < 0 && sc.on(SetIPv4) && run <= 3 && j < len(s) && s[j] == '.' {
		end = sc.ipv4(i)
	}
	if end < 0 && sc.on(SetPhone) && mayBePhone(s, j, run) {
		end = sc.nationalPhone(i)
	}
	return max(j, end)
}

// mayBePhone reports whether a digit run of length run ending at j can
// start a national phone number: a whole one, or its first group.
func mayBePhone[T input](s T, j, run int) bool {
	if run >= minNationalPhone && run <= maxNationalPhone {
		return true
	}
	if run < 2 || run > 5 || j+1 >= len(s) {
		return false
	}
	c := s[j]
	return (c == ' ' || c == '-' || c == '.') && is(s[j+1], cDigit)
}

// groupedCard reads a number written in groups, the first of which is
// s[i:j], and reports the longest run of its groups that is a card. It
// returns the end of the card, or 0.
func (sc *scanner[T]) groupedCard(i, j int) int {
	s := sc.s
	if j+1 >= len(s) || (s[j] != ' ' && s[j] != '-') || !is(s[j+1], cDigit) {
		return 0
	}
	sep := s[j]

	var lens, ends [maxCardGroups]int
	lens[0], ends[0] = 4, j
	g, total := 1, 4
	for g < maxCardGroups && j+1 < len(s) && s[j] == sep && is(s[j+1], cDigit) {
		k := spanEnd(s, j+1, len(s), cDigit)
		l := k - (j + 1)
		if l > 6 || total+l > maxCardDigits {
			break
		}
		lens[g], ends[g] = l, k
		g, total, j = g+1, total+l, k
	}

	// A shorter run of groups is tried when the text goes on with more
	// digits, as in "4111 1111 1111 1111 2031".
	for ; g >= 3; g-- {
		end := ends[g-1]
		if groupingOK(lens[:g]) && cardRightEdge(s, end) && sc.cardAt(i, end) {
			return end
		}
	}
	return 0
}

// groupingOK accepts the usual ways of writing a card number: groups of
// four with a shorter or equal last group, and Amex's and Diners' 4-6-5 and
// 4-6-4.
func groupingOK(lens []int) bool {
	if len(lens) == 3 && lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4) {
		return true
	}
	last := len(lens) - 1
	for _, l := range lens[:last] {
		if l != 4 {
			return false
		}
	}
	return lens[last] >= 1 && lens[last] <= 4
}

// cardAt validates the digits of s[i:end] and records a match if they are
// a card number.
func (sc *scanner[T]) cardAt(i, end int) bool {
	var buf [maxCardDigits]byte
	d := buf[:0]
	for k := i; k < end; k++ {
		if c := sc.s[k]; is(c, cDigit) {
			if len(d) == maxCardDigits {
				return false
			}
			d = append(d, c)
		}
	}
	if len(d) < minCardDigits || !luhn(d) {
		return false
	}
	b := brand(d)
	if b == "" {
		return false
	}

	sc.add(DetectorCard, i, end)
	sc.found[len(sc.found)-1].Brand = b
	return true
}

// cardLeftEdge rejects digits that continue a word, a decimal or version
// number ("1.4111…") or a dashed identifier ("ORD-4111…"). A dash after a
// digit is allowed: it may separate two numbers, and each is checked.
func cardLeftEdge[T input](s T, i int) bool {
	if wordBefore(s, i) {
		return false
	}
	if i < 2 {
		return true
	}
	switch prev, before := s[i-1], s[i-2]; prev {
	case '.':
		return !is(before, cAlnum)
	case '-':
		return !is(before, cLetter) && before != '_'
	}
	return true
}

// cardRightEdge is cardLeftEdge's mirror for the byte at j, just past the
// last digit.
func cardRightEdge[T input](s T, j int) bool {
	if j >= len(s) {
		return true
	}
	c := s[j]
	if is(c, cAlnum) || c == '_' {
		return false
	}
	if j+1 >= len(s) {
		return true
	}
	switch next := s[j+1]; c {
	case '.':
		return !is(next, cAlnum)
	case '-':
		return !is(next, cLetter) && next != '_'
	}
	return true
}

// luhn reports whether the digits d pass the Luhn check.
func luhn(d []byte) bool {
	sum, double := 0, false
	for k := len(d) - 1; k >= 0; k-- {
		v := int(d[k] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// brand names the card brand whose IIN ranges and lengths fit d, or "".
func brand(d []byte) string {
	n := len(d)
	p1, p2, p3, p4 := prefix(d, 1), prefix(d, 2), prefix(d, 3), prefix(d, 4)
	switch {
	case p1 == 4:
		if n == 13 || n == 16 || n == 19 {
			return BrandVisa
		}
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		if n == 16 {
			return BrandMastercard
		}
	case p2 == 34, p2 == 37:
		if n == 15 {
			return BrandAmex
		}
	case p4 == 6011, p2 == 65, p3 >= 644 && p3 <= 649:
		if n >= 16 {
			return BrandDiscover
		}
	case p4 >= 3528 && p4 <= 3589:
		if n >= 16 {
			return BrandJCB
		}
	case p2 == 36, p2 == 38, p2 == 39, p3 >= 300 && p3 <= 305:
		if n >= 14 {
			return BrandDiners
		}
	case p2 == 62:
		if n >= 16 {
			return BrandUnionPay
		}
	}
	return ""
}

// prefix returns the number the first k digits of d spell.
func prefix(d []byte, k int) int {
	v := 0
	for _, c := range d[:k] {
		v = v*10 + int(c-'0')
	}
	return v
}
