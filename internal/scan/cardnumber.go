package scan

// CardBrand returns the brand of a card number given as ASCII digits only,
// and whether it is one: a length its brand issues, a known IIN and a
// passing Luhn check, the same rules the card detector applies. The
// payment vault uses it to validate what it is asked to tokenize.
func CardBrand(digits string) (string, bool) {
	if len(digits) < 12 || len(digits) > 19 {
		return "", false
	}
	d := []byte(digits)
	for _, c := range d {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	b := brand(d)
	return b, b != "" && luhn(d)
}
