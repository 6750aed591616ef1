// Package classify is SecureCart's data map: every stored field, declared
// once, with its class and the protection that class requires.
//
// The store consults it on every write and refuses to store a pii or pci
// field that is not sealed; `securecart classify` prints it for auditors.
// A field's class decides its protection:
//
//	class         must be sealed   typical protection
//	public        no               none (integrity through the change log)
//	internal      no               access policy
//	confidential  no               access policy; masked or omitted for most roles
//	pii           yes              sealed with the owner's data key; masked by default
//	pci           yes              sealed in the payment-card domain; never displayed in full
//
// The package imports nothing else of SecureCart; key domains are named by
// their command-line spelling.
package classify

import (
	"fmt"
	"sort"
	"strings"
)

// Class is a field's sensitivity.
type Class int

// The classes, from least to most sensitive.
const (
	Public Class = iota + 1
	Internal
	Confidential
	PII
	PCI
)

func (c Class) String() string {
	switch c {
	case Public:
		return "public"
	case Internal:
		return "internal"
	case Confidential:
		return "confidential"
	case PII:
		return "pii"
	case PCI:
		return "pci"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// MustSeal reports whether values of the class may only be stored sealed.
func (c Class) MustSeal() bool { return c == PII || c == PCI }

// Protection is a set of protections applied to a field.
type Protection uint8

// Protections.
const (
	// Sealed fields are stored as envelopes under a data key.
	Sealed Protection = 1 << iota
	// BlindIndexed fields have a keyed token for exact lookup.
	BlindIndexed
	// Masked fields are masked for roles that may not read them in clear.
	Masked
)

func (p Protection) String() string {
	var parts []string
	if p&Sealed != 0 {
		parts = append(parts, "sealed")
	}
	if p&BlindIndexed != 0 {
		parts = append(parts, "blind-indexed")
	}
	if p&Masked != 0 {
		parts = append(parts, "masked")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Field is one stored field.
type Field struct {
	Table       string     `json:"table"`
	Column      string     `json:"column"`
	Class       Class      `json:"-"`
	Protection  Protection `json:"-"`
	KeyDomain   string     `json:"key_domain,omitempty"`
	Description string     `json:"description"`
}

// Name returns "table.column".
func (f Field) Name() string { return f.Table + "." + f.Column }

// fields is the data map. Keep it in step with the store's migrations: a
// test fails if a column of the store is missing here.
var fields = []Field{
	{"customers", "id", Internal, 0, "", "random customer identifier"},
	{"customers", "name", PII, Sealed | Masked, "customer-pii", "full name; masked to initials"},
	{"customers", "email", PII, Sealed | BlindIndexed | Masked, "customer-pii", "email address; masked to first letter and domain"},
	{"customers", "email_bidx", Confidential, 0, "blind-index", "keyed token of the normalized email, for lookup"},
	{"customers", "email_bidx_version", Internal, 0, "", "blind-index key version of the token"},
	{"customers", "phone", PII, Sealed | Masked, "customer-pii", "phone number; masked to its last 2 digits"},
	{"customers", "address", PII, Sealed | Masked, "customer-pii", "postal address; masked to city and country"},
	{"customers", "created_at", Internal, 0, "", "creation time"},
	{"customers", "last_activity", Internal, 0, "", "last change or sign-in"},
	{"customers", "version", Internal, 0, "", "optimistic-concurrency version"},

	{"products", "id", Public, 0, "", "product identifier"},
	{"products", "sku", Public, 0, "", "stock-keeping unit"},
	{"products", "name", Public, 0, "", "product name"},
	{"products", "description", Public, 0, "", "product description"},
	{"products", "price", Public, 0, "", "unit price in minor units"},
	{"products", "currency", Public, 0, "", "ISO 4217 currency"},
	{"products", "stock", Internal, 0, "", "units in stock"},
	{"products", "created_at", Internal, 0, "", "creation time"},
	{"products", "updated_at", Internal, 0, "", "last change"},
	{"products", "version", Internal, 0, "", "optimistic-concurrency version"},

	{"orders", "id", Internal, 0, "", "random order identifier"},
	{"orders", "customer_id", Internal, 0, "", "the customer who placed it"},
	{"orders", "lines", Confidential, 0, "", "products, quantities and unit prices"},
	{"orders", "total", Confidential, 0, "", "order total in minor units"},
	{"orders", "currency", Internal, 0, "", "ISO 4217 currency"},
	{"orders", "status", Internal, 0, "", "pending, paid, shipped, delivered, cancelled, refunded"},
	{"orders", "payment_token", Confidential, 0, "", "payment vault token; never a card number"},
	{"orders", "notes", PII, Sealed | Masked, "customer-pii", "free-text notes, sealed with the customer's data key"},
	{"orders", "created_at", Internal, 0, "", "creation time"},
	{"orders", "updated_at", Internal, 0, "", "last change"},
	{"orders", "version", Internal, 0, "", "optimistic-concurrency version"},

	{"vault_cards", "id", Confidential, 0, "", "the card's token, random; refers to the card without revealing it"},
	{"vault_cards", "fingerprint", Confidential, 0, "blind-index", "keyed HMAC of the card number: the same card, the same value"},
	{"vault_cards", "brand", Internal, 0, "", "card brand from the IIN"},
	{"vault_cards", "first6", Confidential, 0, "", "first six digits (the IIN); the most that is ever shown beside last4"},
	{"vault_cards", "last4", Confidential, 0, "", "last four digits"},
	{"vault_cards", "pan", PCI, Sealed, "payment-card", "card number, sealed with the token's own data key"},
	{"vault_cards", "expiry", PCI, Sealed, "payment-card", "expiry month and year, sealed with the token's data key"},
	{"vault_cards", "holder", PCI, Sealed, "payment-card", "cardholder name if given, sealed with the token's data key"},
	{"vault_cards", "single_use", Internal, 0, "", "whether the first detokenization consumes the token"},
	{"vault_cards", "used_at", Internal, 0, "", "when a single-use token was consumed, else 0"},
	{"vault_cards", "expires_at", Internal, 0, "", "end of the token's time to live, else 0"},
	{"vault_cards", "created_at", Internal, 0, "", "creation time"},
	{"vault_cards", "created_by", Internal, 0, "", "the principal that tokenized the card"},

	{"idempotency", "principal", Internal, 0, "", "the principal that sent the key"},
	{"idempotency", "idem_key", Internal, 0, "", "the client's Idempotency-Key"},
	{"idempotency", "request_hash", Internal, 0, "", "SHA-256 of the request that used the key"},
	{"idempotency", "resource_id", Internal, 0, "", "what that request created"},
	{"idempotency", "created_at", Internal, 0, "", "when the key was first used"},

	{"change_log", "pos", Internal, 0, "", "position, gap-free in commit order"},
	{"change_log", "at", Internal, 0, "", "commit time"},
	{"change_log", "tbl", Internal, 0, "", "table changed"},
	{"change_log", "row_key", Internal, 0, "", "key of the row changed"},
	{"change_log", "op", Internal, 0, "", "insert, update or delete"},
	{"change_log", "after", Confidential, 0, "", "the row after the change, sealed fields still sealed"},
}

var index = func() map[string]Field {
	m := make(map[string]Field, len(fields))
	for _, f := range fields {
		if f.Class.MustSeal() && f.Protection&Sealed == 0 {
			panic("classify: " + f.Name() + " is " + f.Class.String() + " but not sealed")
		}
		m[f.Name()] = f
	}
	return m
}()

// Lookup returns the declaration of table.column.
func Lookup(table, column string) (Field, bool) {
	f, ok := index[table+"."+column]
	return f, ok
}

// Fields returns the data map sorted by table and column.
func Fields() []Field {
	out := append([]Field(nil), fields...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}

// Table returns the declared fields of one table, in declaration order.
func Table(table string) []Field {
	var out []Field
	for _, f := range fields {
		if f.Table == table {
			out = append(out, f)
		}
	}
	return out
}
