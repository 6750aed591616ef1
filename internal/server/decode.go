package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// MaxBody bounds a request body.
const MaxBody = 64 << 10

// DecodeJSON reads the request body into v strictly: application/json only,
// at most MaxBody bytes, no unknown fields, no trailing data, and the right
// JSON types. It returns the Problem to send when the body is refused; the
// problem never repeats the body.
func DecodeJSON(r *http.Request, v any) (Problem, bool) {
	_, p, ok := decodeBody(r, v)
	return p, ok
}

// decodeBody is DecodeJSON that also returns the raw body.
func decodeBody(r *http.Request, v any) ([]byte, Problem, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, ProblemMediaType, false
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, ProblemMalformed.With("the body could not be read", ""), false
	}
	if len(body) > MaxBody {
		return nil, ProblemTooLarge.With(fmt.Sprintf("at most %d bytes", MaxBody), ""), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, decodeProblem(err), false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, ProblemMalformed.With("unexpected data after the JSON value", ""), false
	}
	return body, Problem{}, true
}

// decodeProblem describes a decoding error by its kind and field only.
func decodeProblem(err error) Problem {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return ProblemInvalid.With("expected "+typeErr.Type.String(), typeErr.Field)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ProblemMalformed.With("not valid JSON", "")
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); len(msg) > len(unknown) && msg[:len(unknown)] == unknown {
		field := msg[len(unknown):]
		if len(field) > 2 && len(field) < 66 && field[0] == '"' && field[len(field)-1] == '"' {
			return ProblemMalformed.With("unknown field", field[1:len(field)-1])
		}
		return ProblemMalformed.With("unknown field", "")
	}
	return ProblemMalformed.With("not valid JSON for this operation", "")
}
