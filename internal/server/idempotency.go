package server

import (
	"crypto/sha256"
	"errors"
	"net/http"

	"github.com/securecart/securecart/internal/store"
)

// maxIdemKey bounds an Idempotency-Key.
const maxIdemKey = 128

func validIdemKey(k string) bool {
	if len(k) == 0 || len(k) > maxIdemKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// createOnce runs create, honouring the request's Idempotency-Key: a retry
// with the same key and body gets the resource the first request created,
// rendered anew by load for this caller; the same key with another body is
// refused. create returns the new resource's id and its view.
func (a *API) createOnce(c *call, body []byte, create func() (string, any, error), load func(id string) (any, error)) {
	a.createOnceWith(c, body, create, load)
}

// createOnceWith is createOnce for a request known by digest instead of
// its body, for bodies whose plain hash must not be kept.
func (a *API) createOnceWith(c *call, digest []byte, create func() (string, any, error), load func(id string) (any, error)) {
	key := c.r.Header.Get("Idempotency-Key")
	if key == "" {
		_, v, err := create()
		if err != nil {
			a.storeProblem(c, err)
			return
		}
		c.json(http.StatusCreated, v)
		return
	}
	if !validIdemKey(key) {
		c.problem(ProblemInvalid.With("1 to 128 letters, digits, '-' or '_'", "Idempotency-Key"))
		return
	}
	sum := sha256.Sum256(append([]byte(c.r.Method+" "+c.r.URL.Path+"\n"), digest...))
	prev, err := a.d.Store.ClaimIdempotency(c.ctx, c.principal.ID, key, sum[:])
	switch {
	case errors.Is(err, store.ErrIdemMismatch):
		c.problem(ProblemIdemMismatch)
		return
	case errors.Is(err, store.ErrIdemInProgress):
		c.problem(ProblemIdemInProgress)
		return
	case err != nil:
		a.storeProblem(c, err)
		return
	case prev != "":
		v, err := load(prev)
		if err != nil {
			a.storeProblem(c, err)
			return
		}
		c.w.Header().Set("Idempotent-Replayed", "true")
		c.json(http.StatusCreated, v)
		return
	}
	id, v, err := create()
	if err != nil {
		if rerr := a.d.Store.ReleaseIdempotency(c.ctx, c.principal.ID, key); rerr != nil {
			a.d.Logger.Warn("release idempotency key", "request_id", c.requestID, "err", rerr)
		}
		a.storeProblem(c, err)
		return
	}
	if err := a.d.Store.FinishIdempotency(c.ctx, c.principal.ID, key, id); err != nil {
		a.d.Logger.Warn("record idempotency key", "request_id", c.requestID, "err", err)
	}
	c.json(http.StatusCreated, v)
}
