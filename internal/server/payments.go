package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/store"
)

type tokenizeIn struct {
	PAN        string `json:"pan"`
	ExpMonth   int    `json:"exp_month"`
	ExpYear    int    `json:"exp_year"`
	Holder     string `json:"cardholder_name"`
	SingleUse  bool   `json:"single_use"`
	TTLSeconds int64  `json:"ttl_seconds"`

	// Card verification codes, under the names clients send them by, are
	// refused with their own code instead of as unknown fields.
	CVC          json.RawMessage `json:"cvc"`
	CVV          json.RawMessage `json:"cvv"`
	CVC2         json.RawMessage `json:"cvc2"`
	CVV2         json.RawMessage `json:"cvv2"`
	CSC          json.RawMessage `json:"csc"`
	SecurityCode json.RawMessage `json:"security_code"`
}

func (in *tokenizeIn) hasCVC() bool {
	for _, v := range []json.RawMessage{in.CVC, in.CVV, in.CVC2, in.CVV2, in.CSC, in.SecurityCode} {
		if v != nil {
			return true
		}
	}
	return false
}

type detokenizeIn struct {
	Token   string `json:"token"`
	Purpose string `json:"purpose"`
}

type tokenView struct {
	Token       string     `json:"token"`
	Brand       string     `json:"brand"`
	Last4       string     `json:"last4"`
	ExpMonth    int        `json:"exp_month"`
	ExpYear     int        `json:"exp_year"`
	Fingerprint string     `json:"fingerprint"`
	SingleUse   bool       `json:"single_use"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

func newTokenView(t *store.CardToken) tokenView {
	v := tokenView{Token: t.Token, Brand: t.Brand, Last4: t.Last4, ExpMonth: t.ExpMonth, ExpYear: t.ExpYear,
		Fingerprint: payments.Fingerprint(t.Fingerprint), SingleUse: t.SingleUse}
	if !t.ExpiresAt.IsZero() {
		v.ExpiresAt = &t.ExpiresAt
	}
	return v
}

type cardView struct {
	Token    string `json:"token"`
	PAN      string `json:"pan"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	Holder   string `json:"cardholder_name,omitempty"`
	Brand    string `json:"brand"`
}

type transactionView struct {
	Order    string `json:"order_id"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Status   string `json:"status"`
	Token    string `json:"token"`
	Last4    string `json:"last4"`
}

var vaultRes = resource{typ: policy.TypeCollection, id: "payments"}

// tokenize keeps a card in the vault and answers with its token. An
// Idempotency-Key is honoured, with the request remembered by a keyed
// digest: an unkeyed hash of a body holding a card number could be
// reversed by trying every number.
func (a *API) tokenize(c *call) {
	var in tokenizeIn
	body, p, ok := decodeBody(c.r, &in)
	if !ok {
		c.problem(p)
		return
	}
	if !a.allowed(c, policy.Tokenize, vaultRes) {
		c.problem(ProblemForbidden)
		return
	}
	if a.d.Payments == nil {
		c.problem(ProblemUnavailable)
		return
	}
	if in.hasCVC() {
		a.storeProblem(c, payments.ErrCVC)
		return
	}
	digest, err := a.d.Payments.RequestDigest(body)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	card := payments.Card{PAN: in.PAN, ExpMonth: in.ExpMonth, ExpYear: in.ExpYear, Holder: in.Holder}
	opts := payments.Options{SingleUse: in.SingleUse, TTL: time.Duration(in.TTLSeconds) * time.Second}
	if in.TTLSeconds < 0 || in.TTLSeconds > int64(payments.MaxTTL/time.Second) {
		a.storeProblem(c, &payments.InvalidError{Code: payments.CodeInvalidOption, Field: "ttl_seconds",
			Reason: "between 0 and one year"})
		return
	}
	a.createOnceWith(c, digest, func() (string, any, error) {
		t, err := a.d.Payments.Tokenize(c.ctx, c.principal.ID, card, opts)
		if err != nil {
			return "", nil, err
		}
		return t.Token, newTokenView(t), nil
	}, func(token string) (any, error) {
		t, err := a.d.Payments.Token(c.ctx, token)
		if err != nil {
			return nil, err
		}
		return newTokenView(t), nil
	})
}

// detokenize returns a card number to the payment provider. Its answer is
// never stored: no idempotency, no caching.
func (a *API) detokenize(c *call) {
	var in detokenizeIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	c.trail.subject = tokenSubject(in.Token)
	c.trail.purpose = in.Purpose
	if !a.allowed(c, policy.Detokenize, vaultRes) {
		c.problem(ProblemForbidden)
		return
	}
	if in.Purpose == "" {
		// Detokenizing is allowed only for a stated purpose.
		c.problem(ProblemForbidden.With("a purpose is required", "purpose"))
		return
	}
	if a.d.Payments == nil {
		c.problem(ProblemUnavailable)
		return
	}
	card, err := a.d.Payments.Detokenize(c.ctx, in.Token, in.Purpose)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.inClear(cardFields...)
	c.w.Header().Set("Pragma", "no-cache")
	c.json(http.StatusOK, cardView{Token: card.Token, PAN: card.PAN, ExpMonth: card.ExpMonth,
		ExpYear: card.ExpYear, Holder: card.Holder, Brand: card.Brand})
}

// deleteCardToken removes a token and destroys its key, so that its card
// opens nowhere again. A token unknown or already deleted answers 404
// alike.
func (a *API) deleteCardToken(c *call) {
	token := c.r.PathValue("token")
	c.trail.subject = tokenSubject(token)
	if !a.allowed(c, policy.DeleteCardToken, vaultRes) {
		c.problem(ProblemForbidden)
		return
	}
	if a.d.Payments == nil {
		c.problem(ProblemUnavailable)
		return
	}
	if err := a.d.Payments.Delete(c.ctx, token); err != nil {
		a.storeProblem(c, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// tokenSubject is what the audit records name as the resource of a call
// on token. Only the shape of a vault token is written there: anything
// else a caller sent, a card number by mistake included, is left out.
func tokenSubject(token string) *audit.Resource {
	if !store.ValidToken(token) {
		token = ""
	}
	return &audit.Resource{Type: "CardToken", ID: token}
}

// transaction is the payment provider's view of an order: what to charge
// and with which token, nothing about the customer.
func (a *API) transaction(c *call) {
	id := c.r.PathValue("order")
	if !a.allowed(c, policy.ReadTransaction, resource{typ: policy.TypeTransaction, id: id}) {
		c.problem(ProblemForbidden)
		return
	}
	o, err := a.d.Store.GetOrder(c.ctx, id)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	v := transactionView{Order: o.ID, Amount: o.Total, Currency: o.Currency, Status: o.Status, Token: o.PaymentToken}
	if o.PaymentToken != "" && a.d.Payments != nil {
		if t, err := a.d.Payments.Token(c.ctx, o.PaymentToken); err == nil {
			v.Last4 = t.Last4
		} else if !errors.Is(err, store.ErrNotFound) {
			a.storeProblem(c, err)
			return
		}
	}
	c.json(http.StatusOK, v)
}
