package scan

import (
	"encoding/base64"
	"encoding/json"
)

const (
	apiKeyPrefix    = "sck_"
	apiKeyIDLen     = 12
	apiKeySecretLen = 43
	awsKeyLen       = 20
	minBearer       = 8
	plainBearer     = 20   // a token this long needs no digit or punctuation
	maxJWTHeader    = 4096 // base64url characters of a JWT header decoded
	maxJWTSegments  = 5
	maxPEMLabel     = 64
	maxPEMBlock     = 64 << 10
)

// apiKey looks for a SecureCart API key starting at i.
func (sc *scanner[T]) apiKey(i int) {
	s := sc.s
	if !hasAt(s, i, apiKeyPrefix) || (i > 0 && is(s[i-1], cB64URL)) {
		return
	}
	id := i + len(apiKeyPrefix)
	for k := id; k < id+apiKeyIDLen; k++ {
		if k >= len(s) || !isLowerBase32(s[k]) {
			return
		}
	}
	sep := id + apiKeyIDLen
	if sep >= len(s) || s[sep] != '_' {
		return
	}
	end := spanEnd(s, sep+1, apiKeySecretLen+1, cB64URL)
	if end-(sep+1) != apiKeySecretLen {
		return
	}
	sc.add(DetectorAPIKey, i, end)
}

func isLowerBase32(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')
}

// awsKey looks for an AWS access key id starting at i.
func (sc *scanner[T]) awsKey(i int) {
	s := sc.s
	if !hasAt(s, i, "AKIA") && !hasAt(s, i, "ASIA") {
		return
	}
	if i > 0 && is(s[i-1], cAlnum) {
		return
	}
	end := spanEnd(s, i, awsKeyLen+1, cUpper|cDigit)
	if end-i != awsKeyLen || (end < len(s) && is(s[end], cAlnum)) {
		return
	}
	sc.add(DetectorAWSKey, i, end)
}

// bearer looks for "Bearer <token>" starting at i and reports the token.
func (sc *scanner[T]) bearer(i int) {
	s := sc.s
	if !hasFoldAt(s, i, "bearer") || (i > 0 && is(s[i-1], cAlnum)) {
		return
	}
	start := i + len("bearer")
	if start >= len(s) || (s[start] != ' ' && s[start] != '\t') {
		return
	}
	for start < len(s) && (s[start] == ' ' || s[start] == '\t') {
		start++
	}

	end := spanEnd(s, start, len(s), cAlnum|cToken)
	marked := false
	for k := start; k < end; k++ {
		if !is(s[k], cLetter) {
			marked = true
			break
		}
	}
	for end < len(s) && s[end] == '=' {
		end, marked = end+1, true
	}
	if n := end - start; n < minBearer || (!marked && n < plainBearer) {
		return
	}
	sc.add(DetectorBearer, start, end)
}

// jwt looks for a JSON Web Token starting at i. Every JWT starts with 'e':
// its header is a JSON object, and base64 of '{' begins with 'e'; then 'y'
// for '"' or ' ' and 'w' for a line break or tab.
func (sc *scanner[T]) jwt(i int) {
	s := sc.s
	if i+1 >= len(s) || (s[i+1] != 'y' && s[i+1] != 'w') {
		return
	}
	if i > 0 && (is(s[i-1], cB64URL) || s[i-1] == '.') {
		return
	}

	header := spanEnd(s, i, len(s), cB64URL)
	end, segments := header, 1
	for segments < maxJWTSegments && end < len(s) && s[end] == '.' {
		end = spanEnd(s, end+1, len(s), cB64URL)
		segments++
	}
	// The last segment, the signature, is empty in an unsecured JWT.
	if segments != 3 && segments != 5 {
		return
	}
	if header-i > maxJWTHeader || !jwtHeader([]byte(s[i:header])) {
		return
	}
	sc.add(DetectorJWT, i, end)
}

// jwtHeader reports whether b, base64url, decodes to a JSON object with an
// "alg" member.
func jwtHeader(b []byte) bool {
	dec := make([]byte, base64.RawURLEncoding.DecodedLen(len(b)))
	n, err := base64.RawURLEncoding.Decode(dec, b)
	if err != nil {
		return false
	}
	var h struct {
		Alg *json.RawMessage `json:"alg"`
	}
	return json.Unmarshal(dec[:n], &h) == nil && h.Alg != nil
}

// urlPassword looks for scheme://user:password@ around the ':' at i and
// reports the password.
func (sc *scanner[T]) urlPassword(i int) {
	s := sc.s
	if !hasAt(s, i, "://") {
		return
	}
	scheme := i
	for scheme > 0 && (is(s[scheme-1], cAlnum) || isSchemePunct(s[scheme-1])) {
		if i-scheme == maxSchemeName {
			return
		}
		scheme--
	}
	if scheme == i || !is(s[scheme], cLetter) {
		return
	}

	// The authority ends at the first '/', '?' or '#'; its user
	// information at the last '@' before that.
	start := i + len("://")
	at, colon := -1, -1
	for k := start; k < len(s) && k-start < maxAuthority; k++ {
		c := s[k]
		if c == '/' || c == '?' || c == '#' || c == '"' || c == '<' || c == '>' || is(c, cSpace) {
			break
		}
		switch {
		case c == '@':
			at = k
		case c == ':' && colon < 0:
			colon = k
		}
	}
	if at < 0 || colon < 0 || colon > at || colon+1 == at {
		return
	}
	sc.add(DetectorURLPassword, colon+1, at)
}

func isSchemePunct(c byte) bool { return c == '+' || c == '-' || c == '.' }

// privateKey looks for a PEM private key block starting at i.
func (sc *scanner[T]) privateKey(i int) {
	s := sc.s
	if i < sc.pemEnd || !hasAt(s, i, "-----BEGIN ") {
		return // a BEGIN line inside a block already found is part of it
	}
	label := i + len("-----BEGIN ")
	dashes := indexAt(s, label, maxPEMLabel, "-----")
	if dashes < 0 || !hasAt(s, dashes-len("PRIVATE KEY"), "PRIVATE KEY") {
		return
	}
	body := dashes + len("-----")

	end := sc.pemBlockEnd(body)
	sc.add(DetectorPrivateKey, i, end)
	sc.pemEnd = end
}

// pemBlockEnd returns the end of the PEM block whose body starts at body:
// the end of its END line, or, when the block was cut short and has none,
// the end of what follows of its body.
func (sc *scanner[T]) pemBlockEnd(body int) int {
	s := sc.s
	// The text before pemSearched holds no END line: another block's
	// search has read it.
	from := max(body, sc.pemSearched)
	if e := indexAt(s, from, maxPEMBlock, "-----END "); e >= 0 {
		if c := indexAt(s, e+len("-----END "), maxPEMLabel, "-----"); c >= 0 {
			return c + len("-----")
		}
	} else {
		sc.pemSearched = max(sc.pemSearched, min(len(s), from+maxPEMBlock)-len("-----END ")+1)
	}

	end := body
	for end < len(s) && end-body < maxPEMBlock && isPEMBody(s[end]) {
		end++
	}
	return end
}

// isPEMBody accepts base64, white space, escaped line breaks ("\n" in a
// JSON string) and the characters of PEM headers ("Proc-Type: 4,ENCRYPTED").
func isPEMBody(c byte) bool {
	return is(c, cAlnum|cSpace) || c == '+' || c == '/' || c == '=' ||
		c == '\\' || c == ':' || c == ',' || c == '-'
}
