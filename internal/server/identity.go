package server

import (
	"context"
	"crypto/x509"
	"strings"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/tlsca"
)

// Directory authenticates against the identity directory: API keys,
// people's sessions, customer tokens, and client certificates issued by
// the local CA.
type Directory struct {
	Dir *identity.Directory
	CA  *tlsca.CA
	// NoServiceKeys refuses API keys of services, which then authenticate
	// with their client certificates only. The bootstrap key still works:
	// it is how the first admin is enrolled.
	NoServiceKeys bool
}

// AuthenticateKey checks a bearer credential: an API key ("sck_"), a
// session ("scs_") or a customer token ("sct_").
func (d Directory) AuthenticateKey(ctx context.Context, key string) (Principal, error) {
	switch {
	case strings.HasPrefix(key, identity.SessionPrefix):
		p, err := d.Dir.AuthenticateSession(ctx, key)
		if err != nil {
			return Principal{}, ErrUnauthenticated
		}
		out := principalOf(p)
		out.MFA = true
		return out, nil
	case strings.HasPrefix(key, identity.CustomerPrefix):
		id, err := d.Dir.AuthenticateCustomer(ctx, key)
		if err != nil {
			return Principal{}, ErrUnauthenticated
		}
		return Principal{ID: id, Name: id, Kind: policy.KindCustomer}, nil
	}
	p, err := d.Dir.Authenticate(ctx, key)
	if err != nil {
		return Principal{}, ErrUnauthenticated
	}
	if d.NoServiceKeys && p.Kind == identity.KindService && !identity.IsBootstrap(p) {
		return Principal{}, ErrUnauthenticated
	}
	return principalOf(p), nil
}

// AuthenticateCert maps a verified client certificate to its service
// principal.
func (d Directory) AuthenticateCert(ctx context.Context, cert *x509.Certificate) (Principal, error) {
	p, err := d.Dir.PrincipalForCert(ctx, cert, d.CA)
	if err != nil {
		return Principal{}, ErrUnauthenticated
	}
	return principalOf(p), nil
}

func principalOf(p *identity.Principal) Principal {
	out := Principal{ID: p.ID, Name: p.Name, Kind: string(p.Kind)}
	for _, r := range p.Roles {
		out.Roles = append(out.Roles, string(r))
	}
	return out
}
