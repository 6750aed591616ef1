package server

import (
	"context"
	"crypto/x509"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/tlsca"
)

// Directory authenticates against the identity directory: API keys, and
// client certificates issued by the local CA.
type Directory struct {
	Dir *identity.Directory
	CA  *tlsca.CA
}

// AuthenticateKey checks an API key.
func (d Directory) AuthenticateKey(ctx context.Context, key string) (Principal, error) {
	p, err := d.Dir.Authenticate(ctx, key)
	if err != nil {
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
