package scan

// Context: the words just before a value (and a few after it) that say
// what the value is. They raise or lower a match's confidence, and a few
// detectors (bare SSNs, national phone numbers) need one to fire at all.

const (
	contextBefore = 48 // bytes read before a match for context words
	contextAfter  = 24 // and after it
)

// Context words, lowercase. A word counts where it starts a word: "card"
// in "card_number" but not in "discard".
var (
	cardUp  = []string{"card", "visa", "mastercard", "amex", "pan", "credit", "debit", "payment", "cc"}
	cardDn  = []string{"order", "uuid", "timestamp", "tracking", "invoice", "sku", "serial", "ref", "ts"}
	phoneUp = []string{"phone", "tel", "mobile", "cell", "call", "fax", "sms", "contact", "whatsapp"}
	phoneDn = []string{"order", "tracking", "invoice", "uuid", "timestamp", "id"}
	ssnUp   = []string{"ssn", "social security", "social_security", "socialsecurity", "ss#", "taxpayer"}
	ssnDn   = []string{"order", "tracking", "invoice", "phone", "tel", "zip", "part"}
	ibanUp  = []string{"iban", "account", "bank", "sepa", "transfer", "beneficiary"}
	ipUp    = []string{"ip", "addr", "client", "remote", "host", "from", "peer"}
	ipDn    = []string{"version", "ver", "release", "build", "oid", "v"}
	awsUp   = []string{"aws", "access", "key"}
)

// confidence rates m from the shape of its value and the words around it.
func confidence[T input](s T, m Match) float64 { return rate(s, m, nil) }

// rate is confidence with name, when not nil, the name of the column
// that holds m (see header), read as context too.
func rate[T input](s T, m Match, name []byte) float64 {
	switch m.Detector {
	case DetectorCard:
		base := 0.4 // bare digits: as likely an id as a card without a word
		if !onlyDigits(s, m.Start, m.End) {
			base = 0.8
		}
		return weigh(s, m, name, base, 0.95, 0.2, cardUp, cardDn)
	case DetectorPhone:
		if s[m.Start] == '+' {
			return weigh(s, m, name, 0.7, 0.9, 0.3, phoneUp, phoneDn)
		}
		return weigh(s, m, name, 0.8, 0.8, 0.3, phoneUp, phoneDn)
	case DetectorSSN:
		if onlyDigits(s, m.Start, m.End) {
			return weigh(s, m, name, 0.85, 0.85, 0.3, ssnUp, ssnDn)
		}
		return weigh(s, m, name, 0.6, 0.95, 0.2, ssnUp, ssnDn)
	case DetectorIBAN:
		return weigh(s, m, name, 0.9, 0.99, 0.9, ibanUp, nil)
	case DetectorIPv4, DetectorIPv6:
		return weigh(s, m, name, 0.7, 0.9, 0.2, ipUp, ipDn)
	case DetectorAWSKey:
		return weigh(s, m, name, 0.9, 0.99, 0.9, awsUp, nil)
	case DetectorEmail, DetectorURLPassword, DetectorAWSSecret, DetectorJWT:
		return 0.9
	case DetectorBearer:
		return 0.8
	case DetectorAPIKey, DetectorPrivateKey:
		return 0.99
	}
	return 0.5
}

// weigh returns up when a word of ups is near m or in name and none of
// downs, down in the opposite case, and base otherwise.
func weigh[T input](s T, m Match, name []byte, base, up, down float64, ups, downs []string) float64 {
	lo, hi := contextWindow(s, m.Start, m.End)
	u := anyWord(s, lo, m.Start, ups) || anyWord(s, m.End, hi, ups) || anyWord(name, 0, len(name), ups)
	d := anyWord(s, lo, m.Start, downs) || anyWord(s, m.End, hi, downs) || anyWord(name, 0, len(name), downs)
	switch {
	case u && !d:
		return up
	case d && !u:
		return down
	}
	return base
}

// nearWord reports whether a word of words is in the context before i.
func nearWord[T input](s T, i int, words []string) bool {
	lo, _ := contextWindow(s, i, i)
	return anyWord(s, lo, i, words)
}

// contextWindow returns the bounds of the context around s[start:end],
// which stops at line breaks.
func contextWindow[T input](s T, start, end int) (lo, hi int) {
	lo = start
	for lo > 0 && start-lo < contextBefore && s[lo-1] != '\n' {
		lo--
	}
	hi = end
	for hi < len(s) && hi-end < contextAfter && s[hi] != '\n' {
		hi++
	}
	return lo, hi
}

// anyWord reports whether s[lo:hi] holds one of words at the start of a
// word, ignoring ASCII case.
func anyWord[T input](s T, lo, hi int, words []string) bool {
	for k := lo; k < hi; k++ {
		if k > 0 && is(s[k-1], cLetter) {
			continue
		}
		c := lower(s[k])
		for _, w := range words {
			if w[0] == c && k+len(w) <= hi && foldAt(s, k, w) && wordEnds(s, k+len(w), w) {
				return true
			}
		}
	}
	return false
}

// wordEnds reports whether a context word w may end before j: short words
// must not run on into more letters ("pan" is not "panel"), long ones may
// ("card" in "cardholder").
func wordEnds[T input](s T, j int, w string) bool {
	return len(w) > 3 || j >= len(s) || !is(s[j], cLetter)
}

// foldAt is hasFoldAt for words that may hold non-letters.
func foldAt[T input](s T, i int, w string) bool {
	for k := 0; k < len(w); k++ {
		if lower(s[i+k]) != w[k] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func onlyDigits[T input](s T, i, end int) bool {
	for k := i; k < end; k++ {
		if !is(s[k], cDigit) {
			return false
		}
	}
	return true
}
