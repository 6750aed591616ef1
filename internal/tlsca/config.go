package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"slices"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// tls12Suites are the only TLS 1.2 cipher suites the server accepts:
// ephemeral ECDH key exchange and AEAD encryption.
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// curves are X25519 and P-256, each with its hybrid post-quantum form. Go
// ignores the order and prefers the hybrids when the client offers them.
var curves = []tls.CurveID{
	tls.X25519MLKEM768,
	tls.SecP256r1MLKEM768,
	tls.X25519,
	tls.CurveP256,
}

// ServerConfig returns the server's TLS configuration: TLS 1.2 or later,
// ECDHE with AEAD suites only, certificates from getCert, and client
// certificates verified against clientCAs when a client presents one. A nil
// clientCAs still verifies presented certificates, against the system
// roots; pass the local CA's Pool for mTLS.
func ServerConfig(
	getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error),
	clientCAs *x509.CertPool,
) *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     slices.Clone(tls12Suites),
		CurvePreferences: slices.Clone(curves),
		GetCertificate:   getCert,
		ClientAuth:       tls.VerifyClientCertIfGiven,
		ClientCAs:        clientCAs,
		NextProtos:       []string{"h2", "http/1.1"},
	}
}

// ACMEManager returns an autocert.Manager that obtains certificates from
// Let's Encrypt for hosts only, accepts its terms of service, keeps
// accounts and certificates in cacheDir (created with mode 0700) and gives
// email as the contact address (it may be empty). It does nothing on the
// network until a handshake asks for a certificate.
func ACMEManager(hosts []string, cacheDir string, email string) *autocert.Manager {
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(hosts...),
		Cache:      autocert.DirCache(cacheDir),
		Email:      email,
	}
}

// ACMEServerConfig is ServerConfig with certificates from m, and with the
// ALPN protocol of the TLS-ALPN-01 challenge, so that m can answer it on the
// HTTPS port.
func ACMEServerConfig(m *autocert.Manager, clientCAs *x509.CertPool) *tls.Config {
	cfg := ServerConfig(m.GetCertificate, clientCAs)
	cfg.NextProtos = append(cfg.NextProtos, acme.ALPNProto)
	return cfg
}
