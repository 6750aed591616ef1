package server

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Problem is an RFC 9457 problem document. Code is a stable, documented
// machine-readable code; Detail never carries an internal message, a stack
// trace or a value the client sent.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail,omitempty"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Resource names what an earlier request created, when a retry cannot
	// be given that request's answer.
	Resource *ProblemResource `json:"resource,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header.
	RetryAfter int `json:"-"`
}

// ProblemResource names a resource in a problem document by its type and
// id: never by a secret that goes with it.
type ProblemResource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// problemBase prefixes problem types; the documentation lists each code.
const problemBase = "https://securecart.dev/problems/"

// The problem codes. They are part of the API: never rename one.
var (
	ProblemUnauthenticated = Problem{Status: http.StatusUnauthorized, Code: "unauthenticated", Title: "Missing or invalid credentials"}
	ProblemForbidden       = Problem{Status: http.StatusForbidden, Code: "forbidden", Title: "Not allowed"}
	ProblemNotFound        = Problem{Status: http.StatusNotFound, Code: "not_found", Title: "Not found"}
	ProblemMalformed       = Problem{Status: http.StatusBadRequest, Code: "malformed_body", Title: "The request body is not valid JSON for this operation"}
	ProblemInvalid         = Problem{Status: http.StatusBadRequest, Code: "invalid_field", Title: "A field has an invalid value"}
	ProblemTooLarge        = Problem{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Title: "The request body is too large"}
	ProblemConflict        = Problem{Status: http.StatusConflict, Code: "conflict", Title: "The resource changed; read it again"}
	ProblemDuplicate       = Problem{Status: http.StatusConflict, Code: "duplicate", Title: "The resource already exists"}
	ProblemRateLimited     = Problem{Status: http.StatusTooManyRequests, Code: "rate_limited", Title: "Too many requests"}
	ProblemUnavailable     = Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Title: "The service cannot take this request now"}
	ProblemInternal        = Problem{Status: http.StatusInternalServerError, Code: "internal", Title: "Internal error"}
	ProblemMethod          = Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Title: "Method not allowed"}
	ProblemIdemMismatch    = Problem{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused", Title: "The Idempotency-Key was used with a different request"}
	ProblemIdemInProgress  = Problem{Status: http.StatusConflict, Code: "idempotency_in_progress", Title: "A request with this Idempotency-Key is still running"}
	ProblemSecretWithheld  = Problem{Status: http.StatusConflict, Code: "idempotent_replay_secret_withheld", Title: "This Idempotency-Key already created the resource; its secret is not shown again"}
	ProblemMediaType       = Problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Title: "Send application/json"}
)

// With returns a copy of p with a detail and the field it concerns.
func (p Problem) With(detail, field string) Problem {
	p.Detail, p.Field = detail, field
	return p
}

// WriteProblem sends p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p Problem) {
	p.Type = problemBase + p.Code
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}
