// Package identity is SecureCart's directory of principals (the people and
// services that call its API), their roles, and the API keys they
// authenticate with. The tables live in the database next to the data, so
// every node of a cluster sees the same directory.
//
// # Principals
//
// A principal has an id ("prn_" and 26 lowercase base32 characters of 16
// random bytes), a unique name of 1 to 64 characters from [a-z0-9._-], a
// kind (KindPerson or KindService), a set of roles from the default policy
// set (developer, security, dba, app-service, payment-provider, admin), a
// creation time and, once disabled, a disable time. Disabling is final and
// takes effect at the next request: a disabled principal authenticates with
// neither its keys nor its certificate. Principals are never deleted, so
// that audit records keep naming someone.
//
// # API keys
//
// CreateKey issues a key for a principal and returns it once, as an APIKey:
//
//	sck_<keyid>_<secret>
//
// keyid is 12 lowercase base32 characters (60 random bits); it names the key
// in listings, in RevokeKey and in audit records, and is not secret. secret is
// 32 random bytes in unpadded base64url (43 characters), so a key is always
// exactly 60 characters. Only SHA-256 of the secret's bytes is stored. A fast
// hash is enough here: a slow one (bcrypt, Argon2) protects passwords that a
// person chose and an attacker can guess, whereas 256 random bits cannot be
// guessed at any hash rate; a slow hash would only cost CPU on every request.
// The stored hash is compared in constant time.
//
// APIKey keeps the full key out of logs by construction: printed with any
// fmt verb it shows only "sck_<keyid>_…", and it refuses to be marshalled as
// JSON, text or binary. Reveal returns the key for the one time it is shown
// to its owner.
//
// Authenticate parses a presented key strictly (exact length, alphabet,
// canonical base64) before touching the database, and answers every
// rejection (malformed, unknown, wrong secret, expired, revoked, principal
// disabled) with the one error ErrUnauthenticated, which names neither the
// reason nor the key. A failure to reach the database is not a rejection
// and comes back as an ordinary wrapped error, so that callers can answer
// it as an outage rather than as bad credentials.
//
// A key's last use is recorded at most once a minute, so that a busy key
// does not turn every request into a write. Recording is best effort: if
// that write fails, the request is still authenticated and the next one
// tries again.
//
// # Client certificates
//
// Services may authenticate with a client certificate from the local CA
// (package tlsca) instead of a key. PrincipalForCert accepts a certificate
// only if tlsca verifies it and names an existing, enabled principal of kind
// service; anything else is ErrUnauthenticated.
//
// # Bootstrap
//
// A new deployment has no principals and so no one who may create them.
// EnsureBootstrap, run at start, creates "bootstrap-admin" with the admin
// role and one key that does not expire, and returns that key exactly once:
// later calls and later starts find principals and return none. It is of
// kind service, because the default policies hold a person admin to MFA,
// which no one can present before the first person has enrolled; its job is
// to enrol that person, after which it should be disabled. Nodes that start
// together create one bootstrap principal between them; the unique name
// decides which node's key is the one.
//
// # Errors
//
// ErrUnauthenticated, ErrNotFound and ErrExists are matched with errors.Is;
// bad input is an *InvalidError naming the field. No error carries a
// presented key or secret.
//
// # Limits
//
// The full key is a Go string, which cannot be wiped from memory; it lives
// until the garbage collector reclaims it. Roles are stored with the
// principal and checked here only against the known names: what a role may
// do is the policy package's business. Passwords, TOTP and lockout, which
// DESIGN.md also gives to this component, are not implemented yet.
package identity
