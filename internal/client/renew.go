package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// NewWithCert returns a client that authenticates with the client
// certificate in certFile and keyFile, as services do. The files are read
// again for every new connection, so a Renewer's replacement is used as
// soon as it is written.
func NewWithCert(baseURL, certFile, keyFile, caFile string) (*Client, error) {
	if !strings.HasPrefix(baseURL, "https://") {
		return nil, errors.New("client: the API is served over https:// only")
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return nil, fmt.Errorf("client: load certificate: %w", err)
	}
	cfg, err := tlsConfig(caFile)
	if err != nil {
		return nil, err
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client: load certificate: %w", err)
		}
		return &c, nil
	}
	return &Client{base: strings.TrimRight(baseURL, "/"),
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}}, nil
}

// Certificate is a client certificate as the API issues it.
type Certificate struct {
	CertificatePEM string    `json:"certificate_pem"`
	PrivateKeyPEM  string    `json:"private_key_pem"`
	NotAfter       time.Time `json:"not_after"`
}

// Renewer keeps a service's client certificate fresh: once less than a
// third of the current certificate's lifetime is left, it asks the API for
// a new one (authenticated by the current certificate) and replaces the
// files.
type Renewer struct {
	Client      *Client // usually NewWithCert over the same files
	PrincipalID string
	CertFile    string
	KeyFile     string
	// ValidityHours is the lifetime asked for; 0 takes the server's
	// default (24 hours).
	ValidityHours int
	Now           func() time.Time // default time.Now
}

// Due reports whether the certificate in CertFile should be renewed now,
// and when it expires.
func (r *Renewer) Due() (bool, time.Time, error) {
	c, err := tls.LoadX509KeyPair(r.CertFile, r.KeyFile)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("renew: load certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return false, time.Time{}, fmt.Errorf("renew: parse certificate: %w", err)
	}
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	return r.now().After(leaf.NotAfter.Add(-life / 3)), leaf.NotAfter, nil
}

// RenewIfDue renews the certificate if Due says so, and returns whether it
// did and the expiry of the certificate now in place.
func (r *Renewer) RenewIfDue(ctx context.Context) (bool, time.Time, error) {
	due, notAfter, err := r.Due()
	if err != nil || !due {
		return false, notAfter, err
	}
	var c Certificate
	err = r.Client.Do(ctx, "POST", "/v1/principals/"+r.PrincipalID+"/certificates",
		map[string]any{"validity_hours": r.ValidityHours}, &c)
	if err != nil {
		return false, notAfter, fmt.Errorf("renew: %w", err)
	}
	if _, err := tls.X509KeyPair([]byte(c.CertificatePEM), []byte(c.PrivateKeyPEM)); err != nil {
		return false, notAfter, fmt.Errorf("renew: the new certificate does not load: %w", err)
	}
	// The key goes first: a connection made between the two renames fails
	// to load the pair and is retried, rather than using a stale key.
	if err := writeFile(r.KeyFile, []byte(c.PrivateKeyPEM)); err != nil {
		return false, notAfter, err
	}
	if err := writeFile(r.CertFile, []byte(c.CertificatePEM)); err != nil {
		return false, notAfter, err
	}
	return true, c.NotAfter, nil
}

// Run checks every interval until ctx ends, and reports each failed
// renewal to onError (which may be nil); a failure is retried at the next
// check, and the current certificate stays in use until it expires.
func (r *Renewer) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, _, err := r.RenewIfDue(ctx); err != nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Renewer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// writeFile replaces path atomically with mode 0600.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".renew-*")
	if err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("renew: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("renew: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("renew: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	return nil
}
