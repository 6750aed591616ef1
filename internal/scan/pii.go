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
