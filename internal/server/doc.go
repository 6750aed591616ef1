// Package server is SecureCart's HTTPS API: TLS, routing, the middleware
// that every request passes (request id, authentication, rate limit,
// decoding, authorization, audit), handlers, and operations endpoints.
//
// This file set holds the pieces every handler shares: RFC 9457 problem
// documents with stable codes (problem.go), strict JSON decoding with size
// limits (decode.go), and per-principal token buckets (ratelimit.go).
package server
