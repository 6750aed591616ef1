package server

import (
	"crypto/x509"
	"encoding/pem"
	"time"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/tlsca"
)

// Short-lived credentials: customer tokens for the storefront, and client
// certificates for services.

// DefaultCustomerLimit is the rate limit of one customer's tokens, unless
// Deps.Limits has one for "customer".
var DefaultCustomerLimit = Limit{Rate: 5, Burst: 20}

// CustomerTokenView is a new customer token, shown once.
type CustomerTokenView struct {
	Token      string    `json:"token"`
	CustomerID string    `json:"customer_id"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// issueCustomerToken gives the storefront a token that acts as one
// customer, and as nothing else, for identity.CustomerTokenTTL.
func (a *API) issueCustomerToken(c *call) {
	id := c.r.PathValue("id")
	if a.d.Directory == nil {
		c.problem(ProblemUnavailable)
		return
	}
	if !a.readable(c, policy.IssueCustomerToken, id) {
		return
	}
	if _, err := a.d.Store.GetCustomer(c.ctx, id); err != nil {
		a.storeProblem(c, err)
		return
	}
	// A token has no id of its own: a withheld replay names the customer
	// it acts for.
	a.issueOnce(c, "customer_token", nil, a.identityProblem, func() (string, any, error) {
		tok, exp, err := a.d.Directory.IssueCustomerToken(c.ctx, id, c.principal.ID)
		if err != nil {
			return "", nil, err
		}
		return id, CustomerTokenView{Token: tok.Reveal(), CustomerID: id, ExpiresAt: exp}, nil
	})
}

// DefaultCertValidity is the lifetime of a service certificate unless the
// request asks for another.
const DefaultCertValidity = 24 * time.Hour

type certIn struct {
	ValidityHours int `json:"validity_hours"`
}

// CertificateView is a new client certificate with its private key, shown
// once.
type CertificateView struct {
	CertificatePEM string    `json:"certificate_pem"`
	PrivateKeyPEM  string    `json:"private_key_pem"`
	NotAfter       time.Time `json:"not_after"`
}

// issueCertificate issues a client certificate for a service principal:
// to an admin for any service, and to the service itself, which is how it
// renews before its current certificate expires.
func (a *API) issueCertificate(c *call) {
	var in certIn
	body, bad, ok := decodeBody(c.r, &in)
	if !ok {
		c.problem(bad)
		return
	}
	maxHours := int(tlsca.MaxClientValidity / time.Hour)
	if in.ValidityHours < 0 || in.ValidityHours > maxHours {
		c.problem(ProblemInvalid.With("between 0 (the default, 24) and 2160", "validity_hours"))
		return
	}
	id := c.r.PathValue("id")
	if a.d.Directory == nil || a.d.CA == nil {
		c.problem(ProblemUnavailable)
		return
	}
	self := id == c.principal.ID && c.principal.Kind == policy.KindService
	if !self && !a.admin(c) {
		return
	}
	p, err := a.d.Directory.GetPrincipal(c.ctx, id)
	if err != nil {
		a.identityProblem(c, err)
		return
	}
	if p.Kind != identity.KindService || !p.Enabled() || identity.IsBootstrap(p) {
		c.problem(ProblemInvalid.With("certificates are for enabled service principals", "id"))
		return
	}
	validity := DefaultCertValidity
	if in.ValidityHours > 0 {
		validity = time.Duration(in.ValidityHours) * time.Hour
	}
	a.issueOnce(c, "certificate", body, a.storeProblem, func() (string, any, error) {
		certPEM, keyPEM, err := a.d.CA.IssueClient(p.ID, validity)
		if err != nil {
			return "", nil, err
		}
		defer clear(keyPEM)
		block, _ := pem.Decode(certPEM)
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return "", nil, err
		}
		// A withheld replay names the certificate by its serial number.
		return cert.SerialNumber.Text(16), CertificateView{CertificatePEM: string(certPEM),
			PrivateKeyPEM: string(keyPEM), NotAfter: cert.NotAfter}, nil
	})
}
