package scan

import (
	"fmt"
	"strings"
)

// Set is a set of built-in detectors, one bit each.
type Set uint32

// The built-in detectors as sets of one.
const (
	SetCard Set = 1 << iota
	SetEmail
	SetPhone
	SetSSN
	SetIBAN
	SetIPv4
	SetIPv6
	SetAPIKey
	SetBearer
	SetAWSKey
	SetAWSSecret
	SetJWT
	SetURLPassword
	SetPrivateKey

	// AllSet holds every built-in detector.
	AllSet = SetPrivateKey<<1 - 1

	// LogSet is what the log redactor masks: every detector but the IP
	// addresses, which operators need in logs to run the service.
	LogSet = AllSet &^ (SetIPv4 | SetIPv6)
)

var setNames = []struct {
	bit  Set
	name string
}{
	{SetCard, DetectorCard},
	{SetEmail, DetectorEmail},
	{SetPhone, DetectorPhone},
	{SetSSN, DetectorSSN},
	{SetIBAN, DetectorIBAN},
	{SetIPv4, DetectorIPv4},
	{SetIPv6, DetectorIPv6},
	{SetAPIKey, DetectorAPIKey},
	{SetBearer, DetectorBearer},
	{SetAWSKey, DetectorAWSKey},
	{SetAWSSecret, DetectorAWSSecret},
	{SetJWT, DetectorJWT},
	{SetURLPassword, DetectorURLPassword},
	{SetPrivateKey, DetectorPrivateKey},
}

// Detectors returns the names of the built-in detectors, in a fixed order.
func Detectors() []string {
	out := make([]string, len(setNames))
	for i, n := range setNames {
		out[i] = n.name
	}
	return out
}

// Names returns the names of the detectors in s.
func (s Set) Names() []string {
	var out []string
	for _, n := range setNames {
		if s&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// ParseSet returns the set of the named detectors; "all" names them all.
func ParseSet(names []string) (Set, error) {
	var s Set
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == "all" {
			s |= AllSet
			continue
		}
		bit := setOf(name)
		if bit == 0 {
			return 0, fmt.Errorf("parse detectors: unknown detector %q (known: %s)",
				name, strings.Join(Detectors(), ", "))
		}
		s |= bit
	}
	return s, nil
}

func setOf(name string) Set {
	for _, n := range setNames {
		if n.name == name {
			return n.bit
		}
	}
	return 0
}

// DetectorSeverity returns the severity of a built-in detector's findings.
func DetectorSeverity(name string) string { return severity(name) }

// Describe says in a few words what a built-in detector finds.
func Describe(name string) string {
	switch name {
	case DetectorCard:
		return "payment card number (Luhn, brand IIN and length)"
	case DetectorEmail:
		return "email address"
	case DetectorPhone:
		return "phone number, E.164 or national with a word that says so"
	case DetectorSSN:
		return "US social security number"
	case DetectorIBAN:
		return "international bank account number (mod-97)"
	case DetectorIPv4:
		return "IPv4 address"
	case DetectorIPv6:
		return "IPv6 address"
	case DetectorAPIKey:
		return "SecureCart API key"
	case DetectorBearer:
		return "bearer token"
	case DetectorAWSKey:
		return "AWS access key id"
	case DetectorAWSSecret:
		return "AWS secret access key"
	case DetectorJWT:
		return "JSON Web Token"
	case DetectorURLPassword:
		return "password in a URL"
	case DetectorPrivateKey:
		return "PEM private key"
	}
	return name
}
