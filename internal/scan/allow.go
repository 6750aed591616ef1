package scan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
)

// testCards are card numbers the brands and payment providers publish for
// testing. They are no one's card.
var testCards = map[string]bool{
	"4111111111111111": true, "4012888888881881": true, "4222222222222": true,
	"4242424242424242": true, "4000056655665556": true, "4000000000000002": true,
	"5555555555554444": true, "5105105105105100": true, "5200828282828210": true,
	"2223003122003222": true, "378282246310005": true, "371449635398431": true,
	"378734493671000": true, "6011111111111117": true, "6011000990139424": true,
	"30569309025904": true, "38520000023237": true, "3530111333300000": true,
	"3566002020360505": true, "6200000000000005": true,
}

// IsTestCard reports whether the digits of v are a published test card
// number.
func IsTestCard(v string) bool {
	return testCards[Canonical(DetectorCard, v)]
}

// AllowList says which findings are not worth reporting. It applies to
// scans only: the log redactor masks everything it finds.
type AllowList struct {
	// TestCards drops the published test card numbers.
	TestCards bool
	// Key is the HMAC-SHA256 key of Values. String and JSON leave it out.
	Key []byte `json:"-"`
	// Values holds HMAC-SHA256(Key, Canonical(detector, value)) of the
	// values to drop, as lowercase hex.
	Values map[string]bool
	// Paths are globs of objects not to scan at all ("testdata/**",
	// "**/*.md"); "**" stands for any number of path elements.
	Paths []string
}

// String describes the allow-list without its key.
func (a *AllowList) String() string {
	if a == nil {
		return "no allow-list"
	}
	return fmt.Sprintf("allow-list: test cards %v, %d values, %d path globs", a.TestCards, len(a.Values), len(a.Paths))
}

// Canonical returns the form of a value that HMAC-allow-listing hashes:
// the digits of a card number, SSN or phone number (with its '+'); an
// IBAN in capitals without separators; any other value as it is.
func Canonical(detector, v string) string {
	keep := func(f func(c byte) bool) string {
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if f(v[i]) {
				b.WriteByte(v[i])
			}
		}
		return b.String()
	}
	switch detector {
	case DetectorCard, DetectorSSN:
		return keep(func(c byte) bool { return is(c, cDigit) })
	case DetectorPhone:
		return keep(func(c byte) bool { return is(c, cDigit) || c == '+' })
	case DetectorIBAN:
		return strings.ToUpper(keep(func(c byte) bool { return is(c, cAlnum) }))
	}
	return v
}

// ValueMAC returns the hex HMAC-SHA256 under key of the canonical form of
// v, the form AllowList.Values holds.
func ValueMAC(key []byte, detector, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(Canonical(detector, v)))
	return hex.EncodeToString(m.Sum(nil))
}

// allows reports whether the value v found by detector is allow-listed.
func (a *AllowList) allows(detector, v string) bool {
	if a == nil {
		return false
	}
	if a.TestCards && detector == DetectorCard && IsTestCard(v) {
		return true
	}
	if len(a.Values) > 0 && len(a.Key) > 0 {
		return a.Values[ValueMAC(a.Key, detector, v)]
	}
	return false
}

// AllowsPath reports whether the object p matches one of the path globs.
func (a *AllowList) AllowsPath(p string) bool {
	if a == nil {
		return false
	}
	p = strings.TrimPrefix(path.Clean(strings.ReplaceAll(p, "\\", "/")), "./")
	for _, g := range a.Paths {
		if globMatch(strings.Split(g, "/"), strings.Split(p, "/")) {
			return true
		}
	}
	return false
}

// globMatch matches path elements against glob elements, where "**"
// matches any number of elements and the others follow path.Match.
func globMatch(glob, elems []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for k := 0; k <= len(elems); k++ {
				if globMatch(glob[1:], elems[k:]) {
					return true
				}
			}
			return false
		}
		if len(elems) == 0 {
			return false
		}
		if ok, err := path.Match(glob[0], elems[0]); err != nil || !ok {
			return false
		}
		glob, elems = glob[1:], elems[1:]
	}
	return len(elems) == 0
}
