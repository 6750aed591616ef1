// Package scantest makes labelled test text for the scanner: realistic
// log lines, JSON and CSV with sensitive values planted at known places,
// and hard negatives that look like them. The scanner's precision and
// recall test and its benchmarks read what it makes; all of it comes from
// a seeded generator, so the same seed gives the same bytes.
package scantest

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

// gen makes values from a seeded source.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed^0x5eed))} }

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) from(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerAZ = "abcdefghijklmnopqrstuvwxyz"
	digitsS = "0123456789"
	hexS    = "0123456789abcdef"
	b64S    = upper + lowerAZ + digitsS + "+/"
	b64URL  = upper + lowerAZ + digitsS + "-_"
	base32L = "abcdefghijklmnopqrstuvwxyz234567"
	base32U = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

// luhnDigit returns the check digit that makes body+digit pass Luhn.
func luhnDigit(body string) byte {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return byte('0' + (10-sum%10)%10)
}

// cardBrands: an IIN prefix and a length.
var cardBrands = []struct {
	prefix string
	length int
}{
	{"4", 16}, {"4", 16}, {"4", 13}, {"51", 16}, {"55", 16}, {"2221", 16}, {"2720", 16},
	{"34", 15}, {"37", 15}, {"6011", 16}, {"65", 16}, {"644", 16}, {"3528", 16},
	{"3589", 16}, {"36", 14}, {"300", 14}, {"62", 16}, {"62", 19}, {"4", 19},
}

// cardDigits returns a Luhn-valid card number of a random brand.
func (g *gen) cardDigits() string {
	b := cardBrands[g.r.IntN(len(cardBrands))]
	body := b.prefix + g.digits(b.length-len(b.prefix)-1)
	return body + string(luhnDigit(body))
}

// groupCard writes digits in the usual groups with sep.
func groupCard(d string, sep string) string {
	if len(d) == 15 {
		return d[:4] + sep + d[4:10] + sep + d[10:]
	}
	var parts []string
	for i := 0; i < len(d); i += 4 {
		parts = append(parts, d[i:min(i+4, len(d))])
	}
	return strings.Join(parts, sep)
}

// luhnRun returns a Luhn-valid run of n digits with any prefix.
func (g *gen) luhnRun(n int) string {
	body := g.pick("1", "2", "3", "4", "5", "6", "7", "8", "9") + g.digits(n-2)
	return body + string(luhnDigit(body))
}

var (
	firstNames = []string{"jane", "john", "amir", "li", "sofia", "noah", "emma", "lucas", "mia", "oliver", "ava", "yuki"}
	lastNames  = []string{"doe", "smith", "khan", "wang", "garcia", "muller", "rossi", "novak", "kim", "silva"}
	domains    = []string{"example.com", "mail.example.org", "shop.example.net", "example.co.uk", "corp.example.io"}
)

func (g *gen) email() string {
	return g.pick(firstNames...) + g.pick(".", "_", "", "+shop.") + g.pick(lastNames...) +
		fmt.Sprint(g.r.IntN(100)) + "@" + g.pick(domains...)
}

func (g *gen) e164() string {
	switch g.r.IntN(4) {
	case 0:
		return "+1 (" + g.from("23456789", 1) + g.digits(2) + ") 555-" + g.digits(4)
	case 1:
		return "+44 20 7946 " + g.digits(4)
	case 2:
		return "+49-30-" + g.digits(7)
	}
	return "+33" + g.from("67", 1) + g.digits(8)
}

func (g *gen) nationalPhone() string {
	switch g.r.IntN(4) {
	case 0:
		return "(" + g.from("23456789", 1) + g.digits(2) + ") 555-" + g.digits(4)
	case 1:
		return g.from("23456789", 1) + g.digits(2) + "-555-" + g.digits(4)
	case 2:
		return "020 7946 " + g.digits(4)
	}
	return "06 " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2)
}

func (g *gen) ssn() string {
	area := 1 + g.r.IntN(899)
	for area == 666 {
		area = 1 + g.r.IntN(899)
	}
	return fmt.Sprintf("%03d-%02d-%04d", area, 1+g.r.IntN(99), 1+g.r.IntN(9999))
}

// ibanFormats: a country, its BBAN as a pattern of 'n' (digit), 'a'
// (capital letter) and 'c' (either).
var ibanFormats = []struct{ country, bban string }{
	{"DE", "nnnnnnnnnnnnnnnnnn"}, {"GB", "aaaannnnnnnnnnnnnn"}, {"FR", "nnnnnnnnnncccccccccccnn"},
	{"NL", "aaaannnnnnnnnn"}, {"ES", "nnnnnnnnnnnnnnnnnnnn"}, {"IT", "annnnnnnnnncccccccccccc"},
	{"BE", "nnnnnnnnnnnn"}, {"CH", "nnnnncccccccccccc"}, {"AT", "nnnnnnnnnnnnnnnn"}, {"PL", "nnnnnnnnnnnnnnnnnnnnnnnn"},
}

// ibanCheck returns the two check digits of an IBAN.
func ibanCheck(country, bban string) string {
	s := bban + country + "00"
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return fmt.Sprintf("%02d", 98-r)
}

func (g *gen) ibanCompact() string {
	f := ibanFormats[g.r.IntN(len(ibanFormats))]
	b := make([]byte, len(f.bban))
	for i, k := range []byte(f.bban) {
		switch k {
		case 'n':
			b[i] = digitsS[g.r.IntN(10)]
		case 'a':
			b[i] = upper[g.r.IntN(26)]
		default:
			b[i] = (upper + digitsS)[g.r.IntN(36)]
		}
	}
	return f.country + ibanCheck(f.country, string(b)) + string(b)
}

func groupIBAN(s string) string {
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:min(i+4, len(s))])
	}
	return strings.Join(parts, " ")
}

func (g *gen) ipv4() string {
	return fmt.Sprintf("%d.%d.%d.%d", g.pick3(10, 172, 192, 203, 81), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *gen) pick3(xs ...int) int { return xs[g.r.IntN(len(xs))] }

func (g *gen) ipv6() string {
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = fmt.Sprintf("%x", g.r.IntN(1<<16))
	}
	groups[0] = g.pick("2001", "2a02", "fe80", "2600")
	if g.r.IntN(2) == 0 {
		return strings.Join(groups[:3], ":") + "::" + strings.Join(groups[6:], ":")
	}
	return strings.Join(groups, ":")
}

func (g *gen) apiKey() string {
	return "sck_" + g.from(base32L, 12) + "_" + g.from(b64URL, 43)
}

func (g *gen) bearer() string { return g.from(upper+lowerAZ+digitsS, 24) + g.from(digitsS, 4) }

// AWSKeyID returns a random AWS access key id: AKIA and 16 base32
// characters, as AWS issues them.
func (g *gen) awsKeyID() string { return "AKIA" + g.from(base32U, 16) }

func (g *gen) awsSecret() string {
	s := g.from(b64S, 40)
	return "Ab" + s[2:] // both cases, as a real one has
}

func (g *gen) jwt() string {
	enc := base64.RawURLEncoding.EncodeToString
	h := enc([]byte(`{"alg":"` + g.pick("HS256", "RS256", "ES256") + `","typ":"JWT"}`))
	p := enc([]byte(fmt.Sprintf(`{"sub":"cus_%d","exp":%d}`, g.r.IntN(1e6), 1700000000+g.r.IntN(1e8))))
	return h + "." + p + "." + g.from(b64URL, 43)
}

func (g *gen) urlPassword() (prefix, password, suffix string) {
	return g.pick("postgres", "mysql", "redis", "amqp") + "://app:", g.from(lowerAZ+digitsS, 12), "@db.internal:5432/shop"
}

func (g *gen) pemBody(lines int) []string {
	out := make([]string, lines)
	for i := range out {
		out[i] = g.from(b64S, 64)
	}
	return out
}

func (g *gen) uuid() string {
	h := g.from(hexS, 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}
