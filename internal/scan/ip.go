package scan

const maxIPv6Text = 45 // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"

// ipv4 looks for a dotted-quad IPv4 address at i: four decimal numbers
// from 0 to 255 without leading zeros. It returns the end, or -1.
func (sc *scanner[T]) ipv4(i int) int {
	s := sc.s
	end, ok := dottedQuad(s, i)
	if !ok || (end < len(s) && (is(s[end], cAlnum) || s[end] == '_')) {
		return -1
	}
	if end+1 < len(s) && s[end] == '.' && is(s[end+1], cDigit) {
		return -1 // a fifth part: a version or an OID, not an address
	}
	sc.add(DetectorIPv4, i, end)
	return end
}

// dottedQuad reads four octets at i and returns the index past them.
func dottedQuad[T input](s T, i int) (int, bool) {
	p := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if p >= len(s) || s[p] != '.' {
				return 0, false
			}
			p++
		}
		q := spanEnd(s, p, 4, cDigit)
		if q == p || q-p > 3 || (q-p > 1 && s[p] == '0') {
			return 0, false
		}
		v := 0
		for k := p; k < q; k++ {
			v = v*10 + int(s[k]-'0')
		}
		if v > 255 {
			return 0, false
		}
		p = q
	}
	return p, true
}

// ipv6 looks for an IPv6 address around the ':' at i: eight groups of one
// to four hexadecimal digits, or fewer with one "::" standing for the
// zeros left out, perhaps ending in a dotted quad.
func (sc *scanner[T]) ipv6(i int) {
	s := sc.s
	if i < sc.ip6Done {
		return // a colon of an address already read
	}
	prevOK := i > 0 && is(s[i-1], cHex)
	nextOK := i+1 < len(s) && (s[i+1] == ':' || is(s[i+1], cHex))
	if !prevOK && !nextOK {
		return
	}

	start := i
	for start > 0 && i-start < maxIPv6Text && (is(s[start-1], cHex) || s[start-1] == ':') {
		start--
	}
	end := i
	for end < len(s) && end-start < maxIPv6Text && (is(s[end], cHex) || s[end] == ':' || s[end] == '.') {
		end++
	}
	sc.ip6Done = end
	if start > 0 && (is(s[start-1], cAlnum) || s[start-1] == '_' || s[start-1] == '.') {
		return
	}

	n, ok := ipv6Len(s, start, end)
	if !ok {
		return
	}
	if e := start + n; e >= len(s) || !(is(s[e], cAlnum) || s[e] == '_' || s[e] == '.') {
		sc.add(DetectorIPv6, start, e)
	}
}

// ipv6Len parses an IPv6 address at the start of s[start:end] and returns
// its length.
func ipv6Len[T input](s T, start, end int) (int, bool) {
	groups, compressed, p := 0, false, start
	if p+1 < end && s[p] == ':' && s[p+1] == ':' {
		compressed, p = true, p+2
	}
	for p < end && groups < 8 {
		q := p
		for q < end && q-p < 5 && is(s[q], cHex) {
			q++
		}
		if q < end && s[q] == '.' && groups <= 6 {
			e, ok := dottedQuad(s, p)
			if !ok {
				return 0, false
			}
			groups, p = groups+2, e
			break
		}
		if q == p || q-p > 4 {
			break
		}
		groups, p = groups+1, q
		if p+1 < end && s[p] == ':' && s[p+1] == ':' {
			if compressed {
				return 0, false
			}
			compressed, p = true, p+2
			continue
		}
		if p+1 < end && s[p] == ':' && is(s[p+1], cHex) && groups < 8 {
			p++
			continue
		}
		break
	}
	switch {
	case compressed && groups < 8 && (groups >= 2 || p-start >= 3):
		return p - start, true
	case !compressed && groups == 8:
		return p - start, true
	}
	return 0, false
}
