package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/securecart/securecart/internal/metrics"
	"github.com/securecart/securecart/internal/tlsca"
)

// Listener settings.
type Listener struct {
	// Addr is the HTTPS address, such as "127.0.0.1:8443".
	Addr string
	// RedirectAddr, if set, serves plain HTTP that only redirects to HTTPS.
	RedirectAddr string
	// Hosts are the names and addresses the local CA's server certificate
	// covers (default localhost, 127.0.0.1, ::1).
	Hosts []string
	// CertFile and KeyFile, if set, are the operator's certificate, used
	// instead of one from the local CA and reloaded when they change.
	CertFile, KeyFile string
	// ACMEHosts, if set, are public names whose certificates come from
	// Let's Encrypt (ACME, TLS-ALPN-01 on the HTTPS port and HTTP-01 on
	// the redirect port), kept in ACMECacheDir; ACMEEmail is the account's
	// contact. It excludes CertFile and KeyFile.
	ACMEHosts    []string
	ACMEEmail    string
	ACMECacheDir string
	// Metrics, if set, counts the failed TLS handshakes.
	Metrics *metrics.Metrics
	// Ready, if set, receives the bound HTTPS address once serving.
	Ready func(addr string)
	// Reload, if set, delivers a value whenever the operator's certificate
	// should be read again (SIGHUP).
	Reload <-chan struct{}
}

// Timeouts against slow clients.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 15 * time.Second
)

// Serve serves h over HTTPS until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, h http.Handler, ca *tlsca.CA, l Listener, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsConfig, redirectTo, closeCert, err := tlsSetup(ctx, ca, l, log)
	if err != nil {
		return err
	}
	defer closeCert()

	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", l.Addr, err)
	}
	hs := tlsca.NewHandshakeErrors(log.With("subsystem", "tls"), tlsca.DefaultHandshakeLinesPerMinute)
	if l.Metrics != nil {
		l.Metrics.Read(metrics.Sources{HandshakeErrors: hs.Count})
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          hs.Logger(),
	}
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()

	if l.RedirectAddr != "" {
		rl, err := net.Listen("tcp", l.RedirectAddr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("listen %s: %w", l.RedirectAddr, err)
		}
		rs := &http.Server{Handler: redirectTo(redirect(ln.Addr().String())), ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
		servers = append(servers, rs)
		go func() { errc <- rs.Serve(rl) }()
	}
	if l.Ready != nil {
		l.Ready(ln.Addr().String())
	}
	log.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		for _, s := range servers {
			s.Close()
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
	}
	log.Info("stopped", "tls_handshake_errors", hs.Count())
	return errors.Join(errs...)
}

// tlsSetup returns the HTTPS listener's TLS configuration, a wrapper for
// the plain-HTTP handler (which answers ACME's HTTP-01 challenges when
// ACME is on) and a function that stops certificate renewal.
func tlsSetup(ctx context.Context, ca *tlsca.CA, l Listener, log *slog.Logger) (
	*tls.Config, func(http.Handler) http.Handler, func() error, error) {
	if len(l.ACMEHosts) > 0 {
		if l.CertFile != "" || l.KeyFile != "" {
			return nil, nil, nil, errors.New("serve: ACME hosts and a certificate file exclude each other")
		}
		if l.ACMECacheDir == "" {
			return nil, nil, nil, errors.New("serve: ACME needs a cache directory")
		}
		m := tlsca.ACMEManager(l.ACMEHosts, l.ACMECacheDir, l.ACMEEmail)
		return tlsca.ACMEServerConfig(m, ca.Pool()), m.HTTPHandler, func() error { return nil }, nil
	}
	getCert, closeCert, err := certSource(ctx, ca, l, log)
	if err != nil {
		return nil, nil, nil, err
	}
	same := func(h http.Handler) http.Handler { return h }
	return tlsca.ServerConfig(getCert, ca.Pool()), same, closeCert, nil
}

// certSource returns the server certificate's source: the operator's files
// or certificates from the local CA, renewed in the background.
func certSource(ctx context.Context, ca *tlsca.CA, l Listener, log *slog.Logger) (
	func(*tls.ClientHelloInfo) (*tls.Certificate, error), func() error, error) {
	onErr := func(err error) { log.Warn("server certificate", "err", err) }
	if l.CertFile != "" || l.KeyFile != "" {
		fc, err := tlsca.OpenFileCert(ctx, l.CertFile, l.KeyFile, tlsca.FileOptions{OnError: onErr})
		if err != nil {
			return nil, nil, err
		}
		if l.Reload != nil {
			go func() {
				for range l.Reload {
					if err := fc.Reload(); err != nil {
						onErr(err)
					}
				}
			}()
		}
		return fc.GetCertificate, fc.Close, nil
	}
	sc, err := tlsca.NewServerCerts(ctx, ca, tlsca.ServerOptions{Hosts: l.Hosts, OnError: onErr})
	if err != nil {
		return nil, nil, err
	}
	return sc.GetCertificate, sc.Close, nil
}

// redirect answers every plain-HTTP request with a redirect to HTTPS and
// serves nothing else.
func redirect(httpsAddr string) http.Handler {
	_, port, _ := net.SplitHostPort(httpsAddr)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		if host == "" {
			host = "localhost"
		}
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, "https://"+net.JoinHostPort(host, port)+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}
