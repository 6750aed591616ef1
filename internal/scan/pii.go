package scan

const (
	maxLocalPart  = 64
	maxDomain     = 253
	maxLabel      = 63
	minPhone      = 8
	maxPhone      = 15
	maxPhoneSep   = 2   // separator bytes between two digit groups, as ") "
	maxAuthority  = 512 // bytes read looking for the end of a URL's authority
	maxSchemeName = 32
)

// email looks for an address around the '@' at at.
func (sc *scanner[T]) email(at int) {
	s := sc.s
	if !sc.on(SetEmail) {
		return
	}

	start := at
	for start > 0 && is(s[start-1], cAlnum|cLocal) {
		if at-start == maxLocalPart {
			return
		}
		start--
	}
	for start < at && s[start] == '.' {
		start++
	}
	if start == at {
		return
	}

	end, ok := domainEnd(s, at+1)
	if !ok {
		return
	}
	// In scheme://user:password@host the '@' ends a URL's user
	// information: urlPassword reports the password, and the host is not
	// a mailbox.
	if inUserinfo(s, at) {
		return
	}
	sc.add(DetectorEmail, start, end)
}

// domainEnd reads a domain name starting at i: labels of letters, digits
// and '-' joined by dots, at least two of them, the last all letters.
func domainEnd[T input](s T, i int) (int, bool) {
	labels, lastStart, p := 0, i, i
	for {
		q := p
		p = spanEnd(s, p, maxLabel+1, cAlnum|cURL)
		if p == q || p-q > maxLabel || p-i > maxDomain || s[q] == '_' {
			return 0, false
		}
		labels, lastStart = labels+1, q
		if p+1 < len(s) && s[p] == '.' && is(s[p+1], cAlnum) {
			p++
			continue
		}
		break
	}
	if labels < 2 || p-lastStart < 2 {
		return 0, false
	}
	for k := lastStart; k < p; k++ {
		if !is(s[k], cLetter) {
			return 0, false
		}
	}
	return p, true
}

// inUserinfo reports whether the '@' at at closes the user information
// "user:password" of a URL ("scheme://user:password@").
func inUserinfo[T input](s T, at int) bool {
	colon := false
	for k := at - 1; k >= 0 && at-k <= maxAuthority; k-- {
		switch c := s[k]; {
		case c == ':':
			colon = true
		case c == '/':
			return colon && hasAt(s, k-2, "://")
		case is(c, cSpace), c == '"', c == '<', c == '>':
			return false
		}
	}
	return false
}

// phone looks for an E.164 number whose '+' is at i.
func (sc *scanner[T]) phone(i int) {
	s := sc.s
	if !sc.on(SetPhone) {
		return
	}
	if i > 0 && (wordBefore(s, i) || s[i-1] == '+' || s[i-1] == '/') {
		return
	}
	if i+1 >= len(s) || s[i+1] < '1' || s[i+1] > '9' {
		return
	}

	digits, end := 0, 0
	for p := i + 1; ; {
		q := spanEnd(s, p, len(s), cDigit)
		if digits+q-p > maxPhone {
			if end == 0 {
				return // one run of more than 15 digits is no phone number
			}
			break // the digits go on past a separator: keep what came before
		}
		digits, end = digits+q-p, q

		p = q
		for p < len(s) && p-q < maxPhoneSep && isPhoneSep(s[p]) {
			p++
		}
		if p == q || p >= len(s) || !is(s[p], cDigit) {
			break
		}
	}

	if digits < minPhone || (end < len(s) && (is(s[end], cAlnum) || s[end] == '_')) {
		return
	}
	sc.add(DetectorPhone, i, end)
}

func isPhoneSep(c byte) bool {
	return c == ' ' || c == '-' || c == '(' || c == ')'
}

const (
	minNationalPhone = 10
	maxNationalPhone = 11
	maxPhoneGroups   = 5
)

// nationalPhone looks for a phone number written the national way, at i
// (its first digit or an opening parenthesis): 10 or 11 digits, bare or in
// up to five groups split by single spaces, dashes or dots, the first
// group perhaps in parentheses, as in "(415) 555-0100", "020 7946 0958" or
// "06 12 34 56 78". Such a number is taken for a phone number only when a
// word before it says so. It returns the end of the number, or -1.
func (sc *scanner[T]) nationalPhone(i int) int {
	s := sc.s
	if !sc.on(SetPhone) {
		return -1
	}
	p, paren := i, s[i] == '('
	if paren {
		if wordBefore(s, i) {
			return -1
		}
		p++
	}

	digits, groups, best := 0, 0, -1
	for groups < maxPhoneGroups {
		q := spanEnd(s, p, maxNationalPhone+1, cDigit)
		if q == p {
			break
		}
		digits, groups = digits+q-p, groups+1
		if digits > maxNationalPhone {
			return -1 // more digits than a phone number: something else
		}
		if digits >= minNationalPhone && phoneRightEdge(s, q) {
			best = q
		}
		if paren {
			if q >= len(s) || s[q] != ')' {
				return -1
			}
			paren = false
			q++
			if q < len(s) && (s[q] == ' ' || s[q] == '-') {
				q++
			}
			p = q
			continue
		}
		if q+1 >= len(s) || (s[q] != ' ' && s[q] != '-' && s[q] != '.') || !is(s[q+1], cDigit) {
			break
		}
		p = q + 1
	}
	if best < 0 || !nearWord(s, i, phoneUp) {
		return -1
	}
	sc.add(DetectorPhone, i, best)
	return best
}

// phoneRightEdge reports whether a number may end just before j.
func phoneRightEdge[T input](s T, j int) bool {
	if j >= len(s) {
		return true
	}
	return !is(s[j], cAlnum) && s[j] != '_' && s[j] != ')'
}

// ssn looks for a US social security number whose first digit run is
// s[i:j]: AAA-GG-SSSS or AAA GG SSSS, or nine bare digits when a word
// before them says what they are. The number must not be one the Social
// Security Administration never issues. It returns the end, or -1.
func (sc *scanner[T]) ssn(i, j int) int {
	s := sc.s
	if i > 0 && (s[i-1] == '-' || s[i-1] == '.') {
		return -1
	}
	var d [9]byte
	end := -1
	switch j - i {
	case 3:
		if j+8 > len(s) || (s[j] != '-' && s[j] != ' ') || s[j+3] != s[j] {
			return -1
		}
		if spanEnd(s, j+1, 3, cDigit) != j+3 || spanEnd(s, j+4, 5, cDigit) != j+8 {
			return -1
		}
		end = j + 8
		copyDigits(d[:], s, i, end)
	case 9:
		end = j
		copyDigits(d[:], s, i, end)
		if !nearWord(s, i, ssnUp) {
			return -1
		}
	default:
		return -1
	}
	if !ssnRightEdge(s, end) || !validSSN(d) {
		return -1
	}
	sc.add(DetectorSSN, i, end)
	return end
}

func ssnRightEdge[T input](s T, j int) bool {
	if j >= len(s) {
		return true
	}
	c := s[j]
	if is(c, cAlnum) || c == '_' {
		return false
	}
	return !(c == '-' || c == '.') || j+1 >= len(s) || !is(s[j+1], cAlnum)
}

// copyDigits copies the digits of s[i:end] to d.
func copyDigits[T input](d []byte, s T, i, end int) {
	n := 0
	for k := i; k < end && n < len(d); k++ {
		if is(s[k], cDigit) {
			d[n] = s[k]
			n++
		}
	}
}

// validSSN applies the rules of issue: no area 000, 666 or 900-999, no
// group 00, no serial 0000, and not the number printed on a sample card
// that was then used by thousands of people.
func validSSN(d [9]byte) bool {
	area := string(d[:3])
	switch {
	case area == "000", area == "666", d[0] == '9':
		return false
	case d[3] == '0' && d[4] == '0':
		return false
	case string(d[5:]) == "0000":
		return false
	case string(d[:]) == "078051120":
		return false
	}
	return true
}
