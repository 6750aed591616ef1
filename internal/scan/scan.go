package scan

import (
	"cmp"
	"slices"
)

// Detector names, as Match.Detector reports them.
const (
	DetectorCard        = "card"
	DetectorEmail       = "email"
	DetectorPhone       = "phone"
	DetectorSSN         = "ssn"
	DetectorIBAN        = "iban"
	DetectorIPv4        = "ipv4"
	DetectorIPv6        = "ipv6"
	DetectorAPIKey      = "api_key"
	DetectorBearer      = "bearer"
	DetectorAWSKey      = "aws_access_key"
	DetectorAWSSecret   = "aws_secret_key"
	DetectorJWT         = "jwt"
	DetectorURLPassword = "url_password"
	DetectorPrivateKey  = "private_key"
)

// Severities, from the most to the least serious: secrets, card numbers,
// SSNs and IBANs are high; contact details medium; network addresses low.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
)

// SeverityRank orders severities: high is 3, medium 2, low 1, anything
// else 0.
func SeverityRank(severity string) int {
	switch severity {
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Match is one finding: text[Start:End] is sensitive.
type Match struct {
	Detector string
	Start    int
	End      int
	Severity string
	// Brand is the card brand for DetectorCard (BrandVisa, ...), else "".
	Brand string
	// Confidence, from 0 to 1, is how sure the detector is, given the
	// shape of the value and the words around it (see the package
	// documentation).
	Confidence float64
}

// input is what the detectors read: Find takes bytes, Redact a string, and
// neither copies its argument to the other.
type input interface{ ~string | ~[]byte }

// Find returns the sensitive data in text that the log redactor masks
// (every detector in LogSet), sorted by Start, with no two matches
// overlapping. It returns nil when it finds nothing.
func Find(text []byte) []Match {
	return find(text, LogSet)
}

// FindSet is Find with the detectors of set.
func FindSet(text []byte, set Set) []Match {
	return find(text, set)
}

// scanner holds one pass over s and what it found.
type scanner[T input] struct {
	s     T
	set   Set
	found []Match

	pemEnd      int // end of the last private key block found
	pemSearched int // no "-----END " starts before this index
	ip6Done     int // the colons before this index were read as IPv6
}

func (sc *scanner[T]) add(detector string, start, end int) {
	sc.found = append(sc.found, Match{
		Detector: detector,
		Start:    start,
		End:      end,
		Severity: severity(detector),
	})
}

// on reports whether the detector with bit d runs in this pass.
func (sc *scanner[T]) on(d Set) bool { return sc.set&d != 0 }

// find is the single pass: the trigger table picks the positions where a
// detector could start, and only those are validated.
func find[T input](s T, set Set) []Match {
	sc := &scanner[T]{s: s, set: set}
	n := len(s)

	// A word-start trigger counts only where the byte before it does not
	// continue a word; looking back at that byte only for triggers costs
	// less than carrying the fact from byte to byte.
	for i := 0; i < n; i++ {
		t := trigger[s[i]] &^ tWordByte
		if t == tNone || t >= tDigit && i > 0 && trigger[s[i-1]]&tWordByte != 0 {
			continue
		}
		switch t {
		case tDigit:
			// The rest of the digit run cannot start a detection.
			i = sc.digits(i) - 1
		case tPlus:
			sc.phone(i)
		case tAt:
			sc.email(i)
		case tColon:
			sc.colon(i)
		case tDash:
			sc.dash(i)
		case tUnder:
			if i+1 < n && s[i+1]|0x20 == 's' {
				sc.secretWord(i + 1)
			}
		case tParen:
			sc.nationalPhone(i)
		case tS:
			sc.apiKey(i)
			sc.secretWord(i)
		case tUpper:
			sc.upper(i)
		case tB:
			sc.bearer(i)
		case tE:
			sc.jwt(i)
		}
	}
	ms := merge(sc.found)
	for k := range ms {
		ms[k].Confidence = confidence(s, ms[k])
	}
	return ms
}

// colon runs the detectors that a ':' can be part of.
func (sc *scanner[T]) colon(i int) {
	if sc.on(SetURLPassword) {
		sc.urlPassword(i)
	}
	if sc.on(SetIPv6) {
		sc.ipv6(i)
	}
}

// dash runs the detectors that a '-' can start.
func (sc *scanner[T]) dash(i int) {
	if sc.on(SetPrivateKey) {
		sc.privateKey(i)
	}
	if i+1 < len(sc.s) && sc.s[i+1]|0x20 == 's' {
		sc.secretWord(i + 1)
	}
}

// upper runs the detectors that an uppercase letter at the start of a word
// can start.
func (sc *scanner[T]) upper(i int) {
	switch sc.s[i] {
	case 'A':
		sc.awsKey(i)
	case 'B':
		sc.bearer(i)
	case 'S':
		sc.secretWord(i)
	}
	if sc.on(SetIBAN) {
		sc.iban(i)
	}
}

// merge sorts ms by start and joins overlapping matches into one that spans
// them, named for the most specific detector among them.
func merge(ms []Match) []Match {
	if len(ms) < 2 {
		return ms
	}
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(b.End, a.End))
	})

	out := ms[:1]
	for _, m := range ms[1:] {
		last := &out[len(out)-1]
		if m.Start >= last.End {
			out = append(out, m)
			continue
		}
		last.End = max(last.End, m.End)
		if rank(m.Detector) < rank(last.Detector) {
			last.Detector, last.Severity, last.Brand = m.Detector, m.Severity, m.Brand
		}
	}
	return out
}

// rank orders detectors from most to least specific; merge keeps the lowest.
func rank(detector string) int {
	switch detector {
	case DetectorPrivateKey:
		return 0
	case DetectorAPIKey:
		return 1
	case DetectorAWSKey:
		return 2
	case DetectorAWSSecret:
		return 3
	case DetectorJWT:
		return 4
	case DetectorIBAN:
		return 5 // an IBAN's digits, grouped in fours, can pass for a card
	case DetectorCard:
		return 6
	case DetectorSSN:
		return 7
	case DetectorURLPassword:
		return 8
	case DetectorBearer:
		return 9
	case DetectorEmail:
		return 10
	case DetectorPhone:
		return 11
	case DetectorIPv4, DetectorIPv6:
		return 12
	default:
		return 13
	}
}

func severity(detector string) string {
	switch detector {
	case DetectorEmail, DetectorPhone:
		return SeverityMedium
	case DetectorIPv4, DetectorIPv6:
		return SeverityLow
	default:
		return SeverityHigh
	}
}
