// Package server is SecureCart's HTTPS API: TLS, routing, the middleware
// that every request passes (request id, authentication, rate limit,
// decoding, authorization, audit), handlers, and operations endpoints.
//
// This file set holds the pieces every handler shares: RFC 9457 problem
// documents with stable codes (problem.go), strict JSON decoding with size
// limits (decode.go), and per-principal token buckets (ratelimit.go).
//
// # Callers
//
// A request authenticates with a client certificate from the local CA or
// with "Authorization: Bearer" and one of: an API key ("sck_"), a person's
// session ("scs_", from POST /v1/sessions, the one operation served without
// authentication; it sets MFA in the policy context), or a customer token
// ("sct_", from POST /v1/customers/{id}/tokens; its principal is of kind
// customer with that customer's id). The bootstrap key passes only the
// operations that enrol an admin person (bootstrapRoutes). Every refusal
// of a customer is answered 404, never 403, so that a customer cannot tell
// another customer's resource from one that does not exist.
//
// # Idempotency
//
// The POSTs that create a record of the shop (customers, products, orders,
// card tokens) honour an Idempotency-Key: a retry with the same key and
// body gets the first answer, marked Idempotent-Replayed, and nothing is
// created twice. The POSTs that issue a secret shown once (API keys,
// principals with their first key, client certificates, sessions, customer
// tokens) ignore the header, since replaying the answer would mean storing
// the secret; a retry issues another, and the first expires or is revoked.
// Applying or rolling back policies does not take one either: a retry
// stores one more version with the same text.
package server
