// Package payments is SecureCart's card tokenization vault: the storefront
// hands it a card once and keeps a token; only the payment provider turns a
// token back into a card number.
//
// # Tokens
//
// Tokenize checks a card (12 to 19 digits, a known brand's IIN and length,
// the Luhn check, an expiry month that has not ended) and keeps it in the
// store's vault under a token: "tok_" and 160 bits from crypto/rand, so a
// token says nothing of its card and cannot be guessed. The same card
// tokenized twice gets two tokens. A token may be single-use (the first
// Detokenize consumes it) or live for a time (at most MaxTTL); once spent
// or expired it answers as unknown, to Detokenize and to an order that
// names it. Delete destroys the token's own data key, so its card opens
// nowhere again, backups included; Sweep does the same to every spent and
// expired token, and a server runs it every SweepEvery, recording each
// sweep in the audit trail.
//
// A card verification code is never accepted: it may not be kept after
// authorization in any form, and the vault never needs it.
//
// # What is shown
//
// Tokenize answers with the token, the brand, the last four digits, the
// expiry and a fingerprint. At most the first six and the last four digits
// are ever shown; only Detokenize returns the whole number.
//
// The fingerprint is an HMAC-SHA-256 of the card number under a key of the
// blind-index domain, derived for this field alone ("fp_" and 32 hex
// digits): the same card has the same fingerprint, without the fingerprint
// revealing the card to anyone without the key, unlike a plain hash, which
// the small space of card numbers would let anyone reverse. It carries the
// version of its key: after the blind-index key rotates, new tokens of a
// card get a new fingerprint, so compare fingerprints of one key version.
//
// # Detokenize
//
// Detokenize needs a purpose from a fixed list (Purposes). Who may call it
// (the payment provider, over mTLS, from its network) is the policy's
// decision, made by the server before it calls here.
package payments

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/securecart/securecart/internal/scan"
	"github.com/securecart/securecart/internal/store"
)

// Problem codes of refused input. They are part of the API.
const (
	CodeInvalidNumber  = "invalid_card_number"
	CodeUnknownBrand   = "unknown_card_brand"
	CodeInvalidExpiry  = "invalid_expiry"
	CodeCardExpired    = "card_expired"
	CodeCVCRefused     = "cvc_not_accepted"
	CodeInvalidPurpose = "invalid_purpose"
	CodeInvalidOption  = "invalid_option"
)

// InvalidError is refused input. Its message names the field and the rule,
// never the value.
type InvalidError struct {
	Code   string
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return "payments: " + e.Field + ": " + e.Reason }

func invalid(code, field, reason string) error {
	return &InvalidError{Code: code, Field: field, Reason: reason}
}

// ErrCVC is returned for a request that carries a card verification code.
var ErrCVC = invalid(CodeCVCRefused, "cvc", "a card verification code is never accepted")

// Purposes are the reasons a payment provider may give for a
// detokenization.
var Purposes = []string{"authorize", "capture", "refund", "verify", "recurring"}

// MaxTTL bounds a token's time to live.
const MaxTTL = 366 * 24 * time.Hour

const maxHolder = 128

// fingerprintField separates the fingerprint's key from the blind index's
// other uses.
const fingerprintField = "vault_cards.pan"

// Card is a card to tokenize.
type Card struct {
	PAN      string
	ExpMonth int
	ExpYear  int
	Holder   string
}

// Options shape a token's life.
type Options struct {
	SingleUse bool
	// TTL, if positive, ends the token's life after it; at most MaxTTL.
	TTL time.Duration
}

// Vault tokenizes and detokenizes cards.
type Vault struct {
	store *store.Store
	now   func() time.Time
}

// New returns a vault keeping cards in s.
func New(s *store.Store) *Vault {
	return &Vault{store: s, now: time.Now}
}

// SetClock replaces the vault's clock, for tests.
func (v *Vault) SetClock(now func() time.Time) { v.now = now }

// Tokenize checks c and keeps it under a new token for principal.
func (v *Vault) Tokenize(ctx context.Context, principal string, c Card, o Options) (*store.CardToken, error) {
	brand, err := v.check(c)
	if err != nil {
		return nil, err
	}
	if o.TTL < 0 || o.TTL > MaxTTL {
		return nil, invalid(CodeInvalidOption, "ttl_seconds", "between 0 and one year")
	}
	fp, err := v.store.KeyedDigest(fingerprintField, []byte(c.PAN))
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	n := store.NewCard{PAN: c.PAN, ExpMonth: c.ExpMonth, ExpYear: c.ExpYear, Holder: c.Holder,
		Brand: brand, Fingerprint: fp, SingleUse: o.SingleUse, CreatedBy: principal}
	if o.TTL > 0 {
		n.ExpiresAt = v.now().Add(o.TTL)
	}
	return v.store.PutCard(ctx, n)
}

// Detokenize returns the card a token stands for. A token that is
// unknown, deleted, expired or used up is store.ErrNotFound, whichever it
// is.
func (v *Vault) Detokenize(ctx context.Context, token, purpose string) (*store.Card, error) {
	if !slices.Contains(Purposes, purpose) {
		return nil, invalid(CodeInvalidPurpose, "purpose", "one of "+strings.Join(Purposes, ", "))
	}
	return v.store.OpenCard(ctx, token)
}

// Token describes a token without its card number.
func (v *Vault) Token(ctx context.Context, token string) (*store.CardToken, error) {
	return v.store.GetCardToken(ctx, token)
}

// Delete removes a token and destroys its key.
func (v *Vault) Delete(ctx context.Context, token string) error {
	return v.store.DeleteCard(ctx, token)
}

// RequestDigest returns a keyed digest of a tokenization request's body,
// which holds a card number, for remembering the request (an idempotency
// key's) without keeping anything a guess could be checked against.
func (v *Vault) RequestDigest(body []byte) ([]byte, error) {
	return v.store.KeyedDigest("vault_cards.request", body)
}

// Fingerprint renders a card's keyed fingerprint.
func Fingerprint(fp []byte) string { return "fp_" + hex.EncodeToString(fp) }

func (v *Vault) check(c Card) (string, error) {
	if len(c.PAN) < 12 || len(c.PAN) > 19 {
		return "", invalid(CodeInvalidNumber, "pan", "12 to 19 digits")
	}
	for i := 0; i < len(c.PAN); i++ {
		if c.PAN[i] < '0' || c.PAN[i] > '9' {
			return "", invalid(CodeInvalidNumber, "pan", "digits only")
		}
	}
	brand, ok := scan.CardBrand(c.PAN)
	switch {
	case brand == "":
		return "", invalid(CodeUnknownBrand, "pan", "not a number range of a supported card brand")
	case !ok:
		return "", invalid(CodeInvalidNumber, "pan", "fails the check digit or its brand's length")
	}
	if c.ExpMonth < 1 || c.ExpMonth > 12 {
		return "", invalid(CodeInvalidExpiry, "exp_month", "1 to 12")
	}
	if c.ExpYear < 2000 || c.ExpYear > 2099 {
		return "", invalid(CodeInvalidExpiry, "exp_year", "a four-digit year")
	}
	// A card is good through the last day of its expiry month.
	now := v.now().UTC()
	if end := time.Date(c.ExpYear, time.Month(c.ExpMonth)+1, 1, 0, 0, 0, 0, time.UTC); !now.Before(end) {
		return "", invalid(CodeCardExpired, "exp_year", "the card has expired")
	}
	if len(c.Holder) > maxHolder || !utf8.ValidString(c.Holder) {
		return "", invalid(CodeInvalidOption, "cardholder_name", fmt.Sprintf("at most %d bytes of UTF-8", maxHolder))
	}
	// A card number typed into the name field would come back in the
	// holder's place, where nobody expects one.
	for _, m := range scan.Find([]byte(c.Holder)) {
		if m.Detector == scan.DetectorCard {
			return "", invalid(CodeInvalidOption, "cardholder_name", "no card numbers in the name")
		}
	}
	return brand, nil
}

// IsInvalid reports whether err is refused input, and returns it.
func IsInvalid(err error) (*InvalidError, bool) {
	var inv *InvalidError
	ok := errors.As(err, &inv)
	return inv, ok
}
