package server

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"

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
	a.replayOr(c, digest, a.storeProblem, create, func(prev string) {
		v, err := load(prev)
		if err != nil {
			a.storeProblem(c, err)
			return
		}
		c.w.Header().Set("Idempotent-Replayed", "true")
		c.json(http.StatusCreated, v)
	})
}

// issueOnce runs issue, which creates a resource of the given kind together
// with a secret shown once, honouring the request's Idempotency-Key. The
// key's record holds the request digest and the new resource's id, never
// the secret, so a retry with the same key and request cannot be given the
// first answer again: it creates nothing and is answered with
// ProblemSecretWithheld naming what the first request created. The same
// key with another request is refused as for createOnce. fail answers an
// error of issue.
func (a *API) issueOnce(c *call, kind string, digest []byte, fail func(*call, error), issue func() (string, any, error)) {
	a.replayOr(c, digest, fail, issue, func(prev string) {
		p := ProblemSecretWithheld.With("the "+strings.ReplaceAll(kind, "_", " ")+
			" created by the first request with this key is named in resource; its secret was shown once", "")
		p.Resource = &ProblemResource{Type: kind, ID: prev}
		c.problem(p)
	})
}

// replayOr claims the request's Idempotency-Key (none sent: the request
// simply runs) and then either runs create and records what it made, or,
// when an earlier request with the same key and digest created prev,
// calls replay(prev) instead.
func (a *API) replayOr(c *call, digest []byte, fail func(*call, error),
	create func() (string, any, error), replay func(prev string)) {
	key := c.r.Header.Get("Idempotency-Key")
	if key == "" {
		_, v, err := create()
		if err != nil {
			fail(c, err)
			return
		}
		c.json(http.StatusCreated, v)
		return
	}
	if !validIdemKey(key) {
		c.problem(ProblemInvalid.With("1 to 128 letters, digits, '-' or '_'", "Idempotency-Key"))
		return
	}
	if a.d.Store == nil {
		c.problem(ProblemUnavailable.With("Idempotency-Key needs the store", "Idempotency-Key"))
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
		replay(prev)
		return
	}
	id, v, err := create()
	if err != nil {
		if rerr := a.d.Store.ReleaseIdempotency(c.ctx, c.principal.ID, key); rerr != nil {
			a.d.Logger.Warn("release idempotency key", "request_id", c.requestID, "err", rerr)
		}
		fail(c, err)
		return
	}
	if err := a.d.Store.FinishIdempotency(c.ctx, c.principal.ID, key, id); err != nil {
		a.d.Logger.Warn("record idempotency key", "request_id", c.requestID, "err", err)
	}
	c.json(http.StatusCreated, v)
}
