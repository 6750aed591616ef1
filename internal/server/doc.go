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
// Every POST that creates something takes an Idempotency-Key: a retry with
// the same key and request (the same principal, path and body digest)
// creates nothing more, and the same key with another request is refused
// 422 idempotency_key_reused (idempotency.go). The store keeps, per
// principal and key, a digest of the request and the id of what it
// created, never an answer; keys are forgotten after store.IdemKeyTTL
// (24 hours).
//
//   - Records of the shop (customers, products, orders, card tokens): the
//     retry gets the first resource, rendered anew for the caller and
//     marked Idempotent-Replayed. A card token's request is remembered by
//     a keyed digest, since a plain hash of a card number can be reversed.
//   - Credentials shown once (principals with their first API key, API
//     keys, client certificates, customer tokens, TOTP enrolments): the
//     first answer cannot be given again without keeping its secret, so
//     the retry is answered 409 idempotent_replay_secret_withheld, with
//     the resource member naming what the first request created (a
//     principal, key or enrolling principal by id, a certificate by its
//     serial number, a customer token by its customer). A client that lost
//     the first answer revokes that credential and asks again with a new
//     key.
//   - Policy apply and rollback: the retry stores no version and gets the
//     version the first request stored.
//
// Sign-in (POST /v1/sessions) ignores the header. It runs before anyone is
// authenticated, so there is no principal to keep keys apart by: anyone
// could claim a key first and have another person's sign-in refused, or
// learn from the answer that someone signed in with it. The digest of its
// body would be an unkeyed hash of a password and a one-time code. And a
// retry needs no key to be safe: its one-time code has been used, so the
// retry is refused 401 and opens no second session. Detokenize takes no
// key either: its answer holds a card number, and nothing about it is
// stored or replayed.
package server
