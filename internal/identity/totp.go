package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: RFC 6238 with its usual parameters, which every
// authenticator app accepts.
const (
	totpPeriod = 30 * time.Second
	totpSkew   = 1 // steps accepted either side of now, for clock drift
	totpIssuer = "SecureCart"
)

var totpOpts = totp.ValidateOpts{Period: uint(totpPeriod / time.Second), Digits: otp.DigitsSix,
	Algorithm: otp.AlgorithmSHA1}

// TOTPEnrolment is what a person copies into an authenticator app. Secret
// is base32; URL is the otpauth:// form that QR codes carry. Both are shown
// once.
type TOTPEnrolment struct {
	Secret string
	URL    string
}

func newTOTPSecret(account string) (TOTPEnrolment, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: account,
		Period: uint(totpPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		SecretSize: 20})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("generate totp secret: %w", err)
	}
	return TOTPEnrolment{Secret: k.Secret(), URL: k.URL()}, nil
}

// step is the RFC 6238 time step t falls in.
func step(t time.Time) int64 { return t.Unix() / int64(totpPeriod/time.Second) }

// matchTOTP returns the time step whose code is code, among the steps
// within totpSkew of now that come after lastStep, or false. Refusing a
// step at or before lastStep is what makes a code usable once.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	var found int64
	ok := 0
	for d := -totpSkew; d <= totpSkew; d++ {
		s := step(now) + int64(d)
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(totpPeriod/time.Second), 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > lastStep && ok == 0 {
			found, ok = s, 1
		}
	}
	return found, ok == 1
}

// Recovery codes: 10 of them, each 16 lowercase base32 characters (80
// random bits) shown in groups of four, usable once in place of a TOTP code.
const (
	recoveryCodes     = 10
	recoveryCodeBytes = 10
	recoveryCodeLen   = 16
)

func newRecoveryCodes() ([]string, [][]byte, error) {
	codes := make([]string, recoveryCodes)
	hashes := make([][]byte, recoveryCodes)
	for i := range codes {
		var b [recoveryCodeBytes]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, nil, fmt.Errorf("generate recovery code: %w", err)
		}
		raw := lowerBase32.EncodeToString(b[:])
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
		hashes[i] = recoveryHash(raw)
	}
	return codes, hashes, nil
}

// normalizeRecoveryCode accepts a code with or without its dashes, in
// either case, and returns its 16 characters.
func normalizeRecoveryCode(code string) (string, bool) {
	c := strings.ToLower(strings.ReplaceAll(code, "-", ""))
	if len(c) != recoveryCodeLen || !isLowerBase32(c) {
		return "", false
	}
	return c, true
}

func recoveryHash(code string) []byte {
	h := sha256.Sum256([]byte("securecart recovery code " + code))
	return h[:]
}
