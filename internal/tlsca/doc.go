// Package tlsca is the TLS side of SecureCart's server: a local certificate
// authority, the server certificate it issues and renews, client
// certificates for service principals, operator-provided certificate files,
// the one tls.Config the server listens with, and a guard that keeps failed
// handshakes from flooding the log.
//
// # The local CA
//
// OpenCA(dir) creates, on first start, an ECDSA P-256 certificate authority
// named "SecureCart local CA", valid ten years, as two files:
//
//	dir/ca.pem      the CA certificate, mode 0644; give it to clients
//	dir/ca-key.pem  its PKCS #8 private key, mode 0600
//
// Later starts load the same pair. Both files are parsed strictly: exactly
// one PEM block of the expected type, no PEM headers, nothing else in the
// file, a key that re-encodes to the same bytes and matches the certificate
// (ErrMalformedPEM otherwise). A key file that group or other users can
// access is refused with ErrKeyFileMode and an error that says which chmod
// fixes it. If only one of the two files exists, OpenCA refuses to guess: it
// neither loads nor overwrites anything. Nothing rotates the CA itself; ten
// years after its creation the operator moves both files away and restarts,
// and clients then need the new ca.pem.
//
// # Server certificates
//
// CA.IssueServer issues an ECDSA P-256 leaf for a list of DNS names and IP
// addresses (by default localhost, 127.0.0.1 and ::1) with a random 128-bit
// serial, valid at most MaxServerValidity (30 days; longer requests are
// capped, and no leaf outlives the CA) and at least MinValidity. NotBefore is
// set a few minutes in the past to tolerate clients whose clock runs slow.
//
// ServerCerts holds the current leaf behind an atomic pointer and serves it
// through GetCertificate, so it can be plugged into tls.Config. A background
// goroutine renews it at two thirds of its lifetime; connections already open
// keep the old certificate, new handshakes get the new one, and nothing
// restarts. A failed renewal leaves the current certificate in service, is
// reported through ServerOptions.OnError and is retried a minute later. The
// goroutine stops when the context given to NewServerCerts ends or Close is
// called. Its Clock can be replaced in tests.
//
// # Client certificates and principals
//
// CA.IssueClient issues a certificate for a service principal: the principal
// id is both the common name and a URI SAN "securecart:principal:<id>", and
// the only extended key usage is client authentication. The returned private
// key is a secret: the caller writes it to a 0600 file or hands it over once,
// and clears the slice when done.
//
// CA.PrincipalFromCert maps a certificate back to the id, but only after
// verifying it against this CA for client authentication at the current
// time, and only if it has the exact shape IssueClient produces. A
// certificate from any other CA maps to nothing, whatever it says.
//
// # Operator-provided certificates
//
// When the operator supplies a certificate and key (for example from a
// public CA), OpenFileCert loads the pair and reloads it when either file's
// modification time or size changes (polled every 10 seconds by default) and
// whenever Reload is called, which the server does on SIGHUP. A reload that
// fails (a half-written file, a key that does not match, an expired
// certificate) keeps serving the previous certificate; the poller reports the
// error through FileOptions.OnError once per change of the files, and Reload
// returns it. A key file that other users can access is refused; group access
// is allowed, for the common ssl-cert group convention.
//
// # The TLS configuration
//
// ServerConfig returns the one tls.Config the server uses:
//
//   - TLS 1.2 at least; TLS 1.3 is chosen whenever the client supports it.
//   - TLS 1.2 only with ECDHE key exchange and AEAD ciphers (AES-GCM,
//     ChaCha20-Poly1305): no CBC, no RSA key exchange. TLS 1.3 suites are all
//     AEAD and not configurable.
//   - Key exchange X25519 and P-256, each also in its hybrid post-quantum
//     form (X25519MLKEM768, SecP256r1MLKEM768), which Go prefers when the
//     client offers it.
//   - Client certificates verified if given (tls.VerifyClientCertIfGiven)
//     against the CA pool: services authenticate with mTLS, other clients
//     with API keys over the same listener.
//
// ACMEManager builds an autocert.Manager for deployments with a public name;
// serve with ACMEServerConfig, which adds the ALPN protocol the TLS-ALPN-01
// challenge needs, or answer HTTP-01 with the manager's HTTPHandler on the
// plain port, which redirects everything else to HTTPS.
//
// # Failed handshakes
//
// Scanners and broken clients produce a steady stream of failed handshakes,
// which net/http reports through http.Server.ErrorLog. HandshakeErrors
// provides that logger: it counts every "TLS handshake error" line (Count,
// for metrics) and passes at most a fixed number per minute to the
// structured log, followed by one line saying how many were suppressed. Other
// server error lines pass through unchanged.
//
// Nothing in this package logs a private key or prints one through fmt:
// the types that hold keys print only public facts.
//
// # Limits
//
// The CA lives in a directory only. A cluster, where DESIGN.md puts the CA
// in the database, needs a store for it that this package does not have
// yet; until then every node must be given the same two files.
//
// Client certificates cannot be revoked here: there is no CRL or OCSP.
// Their lifetime is short, and PrincipalFromCert only names a principal;
// whoever calls it must still check that the principal exists and is
// enabled.
//
// The summary of suppressed handshake errors is written when the minute
// ends, by a goroutine that lives at most that minute.
package tlsca
