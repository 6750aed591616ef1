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
	DetectorAPIKey      = "api_key"
	DetectorBearer      = "bearer"
	DetectorAWSKey      = "aws_access_key"
	DetectorJWT         = "jwt"
	DetectorURLPassword = "url_password"
	DetectorPrivateKey  = "private_key"
)

// Severities. Secrets and card numbers are high; contact details medium.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
)

// Match is one finding: text[Start:End] is sensitive.
type Match struct {
	Detector string
	Start    int
	End      int
	Severity string
	// Brand is the card brand for DetectorCard (BrandVisa, ...), else "".
	Brand string
}

// input is what the detectors read: Find takes bytes, Redact a string, and
// neither copies its argument to the other.
type input interface{ ~string | ~[]byte }

// Find returns the sensitive data in text, sorted by Start, with no two
// matches overlapping. It returns nil when it finds nothing.
func Find(text []byte) []Match {
	return find(text)
}

// scanner holds one pass over s and what it found.
type scanner[T input] struct {
	s     T
	found []Match

	pemEnd      int // end of the last private key block found
	pemSearched int // no "-----END " starts before this index
}

func (sc *scanner[T]) add(detector string, start, end int) {
	sc.found = append(sc.found, Match{
		Detector: detector,
		Start:    start,
		End:      end,
		Severity: severity(detector),
	})
}

// find is the single pass: the trigger table picks the positions where a
// detector could start, and only those are validated.
func find[T input](s T) []Match {
	sc := &scanner[T]{s: s}
	n := len(s)

	for i := 0; i < n; i++ {
		t := trigger[s[i]]
		if t == tNone || t >= tDigit && wordBefore(s, i) {
			continue
		}
		switch t {
		case tDigit:
			// The rest of the digit run cannot start a card.
			i = sc.card(i) - 1
		case tPlus:
			sc.phone(i)
		case tAt:
			sc.email(i)
		case tColon:
			sc.urlPassword(i)
		case tDash:
			sc.privateKey(i)
		case tS:
			sc.apiKey(i)
		case tA:
			sc.awsKey(i)
		case tB:
			sc.bearer(i)
		case tE:
			sc.jwt(i)
		}
	}
	return merge(sc.found)
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
	case DetectorJWT:
		return 3
	case DetectorCard:
		return 4
	case DetectorURLPassword:
		return 5
	case DetectorBearer:
		return 6
	case DetectorEmail:
		return 7
	default:
		return 8
	}
}

func severity(detector string) string {
	switch detector {
	case DetectorEmail, DetectorPhone:
		return SeverityMedium
	default:
		return SeverityHigh
	}
}
