package scan

// Byte classes, as bits of class[c].
const (
	cDigit = 1 << iota
	cUpper
	cLower
	cURL   // '-' and '_', which base64url adds to the alphanumerics
	cLocal // '.', '_', '%', '+', '-': punctuation of an email local part
	cToken // '-', '.', '_', '~', '+', '/': punctuation of a bearer token
	cSpace
	cHex       // hexadecimal digits, either case
	cSlashPlus // '/' and '+', which standard base64 adds to the alphanumerics

	cLetter = cUpper | cLower
	cAlnum  = cDigit | cLetter
	cB64URL = cAlnum | cURL
)

var class = func() (t [256]uint16) {
	for c := '0'; c <= '9'; c++ {
		t[c] |= cDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= cUpper
		t[c+'a'-'A'] |= cLower
	}
	for _, c := range "-_" {
		t[c] |= cURL
	}
	for _, c := range "._%+-" {
		t[c] |= cLocal
	}
	for _, c := range "-._~+/" {
		t[c] |= cToken
	}
	for _, c := range " \t\r\n\f\v" {
		t[c] |= cSpace
	}
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] |= cHex
	}
	t['/'] |= cSlashPlus
	t['+'] |= cSlashPlus
	return t
}()

func is(c byte, classes uint16) bool { return class[c]&classes != 0 }

// Triggers: the bytes at which a detector may start. From tDigit on they
// count only at the start of a word.
const (
	tNone = iota
	tPlus
	tAt
	tColon
	tDash
	tUnder
	tParen
	tDigit
	tS
	tUpper
	tB
	tE

	// tWordByte marks the bytes that continue a word (letters, digits
	// and '_'), beside the trigger in the same table entry.
	tWordByte = 0x80
)

var trigger = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = tDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = tUpper
	}
	t['+'] = tPlus
	t['@'] = tAt
	t[':'] = tColon
	t['-'] = tDash
	t['_'] = tUnder
	t['('] = tParen
	t['s'] = tS
	t['b'] = tB
	t['e'] = tE
	for c := range t {
		if is(byte(c), cAlnum) || c == '_' {
			t[c] |= tWordByte
		}
	}
	return t
}()

// hasAt reports whether s holds lit at i.
func hasAt[T input](s T, i int, lit string) bool {
	if i < 0 || len(s)-i < len(lit) {
		return false
	}
	for k := 0; k < len(lit); k++ {
		if s[i+k] != lit[k] {
			return false
		}
	}
	return true
}

// hasFoldAt is hasAt ignoring ASCII case; lit must be lowercase letters.
func hasFoldAt[T input](s T, i int, lit string) bool {
	if i < 0 || len(s)-i < len(lit) {
		return false
	}
	for k := 0; k < len(lit); k++ {
		if s[i+k]|0x20 != lit[k] {
			return false
		}
	}
	return true
}

// indexAt returns the first index at or after from where s holds lit,
// looking no further than limit bytes, or -1.
func indexAt[T input](s T, from, limit int, lit string) int {
	end := min(len(s), from+limit) - len(lit)
	for k := from; k <= end; k++ {
		if s[k] == lit[0] && hasAt(s, k, lit) {
			return k
		}
	}
	return -1
}

// spanEnd returns the first index at or after i whose byte is not in
// classes, looking no further than limit bytes.
func spanEnd[T input](s T, i, limit int, classes uint16) int {
	end := min(len(s), i+limit)
	for i < end && is(s[i], classes) {
		i++
	}
	return i
}

// wordBefore reports whether the byte before i is alphanumeric or '_'.
func wordBefore[T input](s T, i int) bool {
	return i > 0 && (is(s[i-1], cAlnum) || s[i-1] == '_')
}
