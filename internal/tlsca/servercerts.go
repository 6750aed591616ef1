package tlsca

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// maxSleep bounds each wait of the background loops, so that a wall
	// clock that jumps (a laptop waking up) is noticed within this time.
	maxSleep = time.Hour

	// renewRetry is the pause after a failed renewal.
	renewRetry = time.Minute
)

// ServerOptions configure NewServerCerts. The zero value is a certificate
// for localhost, 127.0.0.1 and ::1, valid MaxServerValidity.
type ServerOptions struct {
	// Hosts are the DNS names and IP addresses the certificate covers.
	Hosts []string
	// Validity is each certificate's lifetime, from MinValidity to
	// MaxServerValidity.
	Validity time.Duration
	// Clock drives issuance and renewal; nil means the system clock.
	Clock Clock
	// OnError receives renewal failures, which are retried every minute
	// while the current certificate stays in service. Nil drops them.
	OnError func(error)
}

// ServerCerts serves a server certificate issued by the local CA and
// renews it at two thirds of its lifetime.
type ServerCerts struct {
	ca      *CA
	opts    ServerOptions
	clock   Clock
	current atomic.Pointer[tls.Certificate]

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// NewServerCerts issues a first certificate and starts renewing it in the
// background until ctx ends or Close is called.
func NewServerCerts(ctx context.Context, ca *CA, opts ServerOptions) (*ServerCerts, error) {
	s := &ServerCerts{ca: ca, opts: opts, clock: clockOrSystem(opts.Clock), done: make(chan struct{})}
	if err := s.Renew(); err != nil {
		return nil, err
	}
	ctx, s.cancel = context.WithCancel(ctx)
	go s.run(ctx)
	return s, nil
}

// GetCertificate returns the current certificate; it has the signature of
// tls.Config.GetCertificate.
func (s *ServerCerts) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.current.Load(), nil
}

// Certificate returns the current certificate. The caller must not modify
// it.
func (s *ServerCerts) Certificate() *tls.Certificate { return s.current.Load() }

// Renew issues a new certificate now and serves it from the next handshake.
func (s *ServerCerts) Renew() error {
	cert, err := s.ca.issueServer(s.opts.Hosts, s.opts.Validity, s.clock.Now())
	if err != nil {
		return fmt.Errorf("renew server certificate: %w", err)
	}
	s.current.Store(cert)
	return nil
}

// Close stops the renewal loop and waits for it to finish. The last
// certificate stays available.
func (s *ServerCerts) Close() error {
	s.closeOnce.Do(s.cancel)
	<-s.done
	return nil
}

// String describes the current certificate without its key.
func (s *ServerCerts) String() string {
	leaf := s.current.Load().Leaf
	return fmt.Sprintf("tlsca.ServerCerts(serial %x, until %s)",
		leaf.SerialNumber, leaf.NotAfter.Format(time.RFC3339))
}

func (s *ServerCerts) run(ctx context.Context) {
	defer close(s.done)
	for {
		wait := s.untilRenewal()
		if wait <= 0 {
			if err := s.Renew(); err != nil {
				if s.opts.OnError != nil {
					s.opts.OnError(err)
				}
				wait = renewRetry
			} else {
				// Close to the CA's expiry a new leaf is due at once;
				// the floor keeps the loop from spinning.
				wait = max(s.untilRenewal(), renewRetry)
			}
		}

		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(wait):
		}
	}
}

// untilRenewal is the time left until the current certificate is due,
// capped at maxSleep.
func (s *ServerCerts) untilRenewal() time.Duration {
	return min(renewalTime(s.current.Load()).Sub(s.clock.Now()), maxSleep)
}

// renewalTime is two thirds into the certificate's validity window.
func renewalTime(cert *tls.Certificate) time.Time {
	life := cert.Leaf.NotAfter.Sub(cert.Leaf.NotBefore)
	return cert.Leaf.NotBefore.Add(life * 2 / 3)
}
