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
	awsSecretLen    = 40
	maxSecretName   = 40 // bytes of the name before a secret key's value
	maxSecretGap    = 8  // bytes between that name and the value
)

// apiKey looks for a SecureCart API key starting at i.
func (sc *scanner[T]) apiKey(i int) {
	s := sc.s
	if !sc.on(SetAPIKey) {
		return
	}
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
	if !sc.on(SetAWSKey) {
		return
	}
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
	if !sc.on(SetBearer) {
		return
	}
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
	if !sc.on(SetJWT) {
		return
	}
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

// secretWord looks for an AWS secret access key after a name that says it
// is one, where "secret" starts at i: aws_secret_access_key,
// AWS_SECRET_ACCESS_KEY, SecretAccessKey, aws-secret-key and the like,
// then up to eight bytes of quotes, colons, equals signs and blanks, then
// exactly 40 characters of base64 with upper and lower case letters.
func (sc *scanner[T]) secretWord(i int) {
	s := sc.s
	if !sc.on(SetAWSSecret) || i >= len(s) || s[i]|0x20 != 's' || !hasFoldAt(s, i, "secret") {
		return
	}

	start := i
	for start > 0 && i-start < maxSecretName && isNameByte(s[start-1]) {
		start--
	}
	end := i
	for end < len(s) && end-i < maxSecretName && isNameByte(s[end]) {
		end++
	}
	if !secretKeyName(s, start, end) {
		return
	}

	v := end
	for v < len(s) && v-end < maxSecretGap && isSecretGap(s[v]) {
		v++
	}
	e := spanEnd(s, v, awsSecretLen+1, cAlnum|cSlashPlus)
	if e-v != awsSecretLen || (e < len(s) && (is(s[e], cAlnum|cSlashPlus) || s[e] == '=')) {
		return
	}
	if !mixedCase(s, v, e) {
		return
	}
	sc.add(DetectorAWSSecret, v, e)
}

// secretKeyName reports whether s[start:end], read without case, '_' and
// '-', names an AWS secret key: it holds "secretaccesskey", or "aws" and
// "secret".
func secretKeyName[T input](s T, start, end int) bool {
	var buf [2 * maxSecretName]byte
	n := 0
	for k := start; k < end && n < len(buf); k++ {
		if c := s[k]; c != '_' && c != '-' {
			buf[n] = lower(c)
			n++
		}
	}
	name := string(buf[:n])
	return contains(name, "secretaccesskey") || (contains(name, "aws") && contains(name, "secret"))
}

func contains(s, sub string) bool {
	for k := 0; k+len(sub) <= len(s); k++ {
		if s[k:k+len(sub)] == sub {
			return true
		}
	}
	return false
}

func isNameByte(c byte) bool { return is(c, cAlnum) || c == '_' || c == '-' }

func isSecretGap(c byte) bool {
	return c == '"' || c == '\'' || c == ':' || c == '=' || c == ' ' || c == '\t' || c == '\\'
}

// mixedCase reports whether s[i:end] has an uppercase and a lowercase
// letter, which a hex digest or a word in capitals has not.
func mixedCase[T input](s T, i, end int) bool {
	up, lo := false, false
	for k := i; k < end; k++ {
		up = up || is(s[k], cUpper)
		lo = lo || is(s[k], cLower)
	}
	return up && lo
}
