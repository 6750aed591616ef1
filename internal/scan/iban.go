package scan

const (
	minIBAN = 15
	maxIBAN = 34
)

// ibanLengths is the length of an IBAN in each country that issues them.
var ibanLengths = map[[2]byte]int{
	{'A', 'D'}: 24, {'A', 'E'}: 23, {'A', 'L'}: 28, {'A', 'T'}: 20, {'A', 'Z'}: 28,
	{'B', 'A'}: 20, {'B', 'E'}: 16, {'B', 'G'}: 22, {'B', 'H'}: 22, {'B', 'R'}: 29,
	{'B', 'Y'}: 28, {'C', 'H'}: 21, {'C', 'R'}: 22, {'C', 'Y'}: 28, {'C', 'Z'}: 24,
	{'D', 'E'}: 22, {'D', 'K'}: 18, {'D', 'O'}: 28, {'E', 'E'}: 20, {'E', 'G'}: 29,
	{'E', 'S'}: 24, {'F', 'I'}: 18, {'F', 'O'}: 18, {'F', 'R'}: 27, {'G', 'B'}: 22,
	{'G', 'E'}: 22, {'G', 'I'}: 23, {'G', 'L'}: 18, {'G', 'R'}: 27, {'G', 'T'}: 28,
	{'H', 'R'}: 21, {'H', 'U'}: 28, {'I', 'E'}: 22, {'I', 'L'}: 23, {'I', 'Q'}: 23,
	{'I', 'S'}: 26, {'I', 'T'}: 27, {'J', 'O'}: 30, {'K', 'W'}: 30, {'K', 'Z'}: 20,
	{'L', 'B'}: 28, {'L', 'C'}: 32, {'L', 'I'}: 21, {'L', 'T'}: 20, {'L', 'U'}: 20,
	{'L', 'V'}: 21, {'M', 'C'}: 27, {'M', 'D'}: 24, {'M', 'E'}: 22, {'M', 'K'}: 19,
	{'M', 'R'}: 27, {'M', 'T'}: 31, {'M', 'U'}: 30, {'N', 'L'}: 18, {'N', 'O'}: 15,
	{'P', 'K'}: 24, {'P', 'L'}: 28, {'P', 'S'}: 29, {'P', 'T'}: 25, {'Q', 'A'}: 29,
	{'R', 'O'}: 24, {'R', 'S'}: 22, {'S', 'A'}: 24, {'S', 'C'}: 31, {'S', 'E'}: 24,
	{'S', 'I'}: 19, {'S', 'K'}: 24, {'S', 'M'}: 27, {'S', 'T'}: 25, {'S', 'V'}: 28,
	{'T', 'L'}: 23, {'T', 'N'}: 24, {'T', 'R'}: 26, {'U', 'A'}: 29, {'V', 'A'}: 22,
	{'V', 'G'}: 24, {'X', 'K'}: 20,
}

// iban looks for an International Bank Account Number at i: a country
// code, two check digits and the account, written without spaces or in
// groups of four split by single spaces (the paper form) or dashes. The
// length must be the country's and the whole must pass the ISO 7064
// mod-97 check.
func (sc *scanner[T]) iban(i int) {
	s := sc.s
	if i+4 > len(s) || !is(s[i+1], cUpper) || !is(s[i+2], cDigit) || !is(s[i+3], cDigit) {
		return
	}
	want, ok := ibanLengths[[2]byte{s[i], s[i+1]}]
	if !ok {
		return
	}

	var buf [maxIBAN]byte
	n, p := 0, i
	var sep byte
	for p < len(s) && n < want {
		c := s[p]
		switch {
		case is(c, cUpper|cDigit):
			buf[n] = c
			n++
			p++
			continue
		case (c == ' ' || c == '-') && n%4 == 0 && n > 0 && (sep == 0 || sep == c) &&
			p+1 < len(s) && is(s[p+1], cUpper|cDigit):
			sep = c
			p++
			continue
		}
		break
	}
	if n != want || (p < len(s) && is(s[p], cAlnum)) {
		return
	}
	if !mod97(buf[:n]) {
		return
	}
	sc.add(DetectorIBAN, i, p)
}

// mod97 reports whether the IBAN b, moved four characters to the left and
// with letters read as 10 to 35, leaves 1 when divided by 97.
func mod97(b []byte) bool {
	r := 0
	for k := range b {
		c := b[(k+4)%len(b)]
		if c >= 'A' {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r == 1
}
