// Package identity is SecureCart's directory of principals (the people and
// services that call its API), their roles, the API keys they authenticate
// with, and people's sign-in: passwords, TOTP, sessions and lockout. The
// tables live in the database next to the data, so every node of a cluster
// sees the same directory.
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
// which no one can present before the first person has enrolled. Its key
// may only enrol an admin (the server lets it create an admin person and
// set that person's password and TOTP, nothing else), and ConfirmTOTP
// revokes it as soon as an admin person with a password completes
// enrolment. Nodes that start together create one bootstrap principal
// between them; the unique name decides which node's key is the one.
//
// # Signing in
//
// People sign in with a password and a second factor; services never do.
//
//   - Passwords are hashed with Argon2id (DefaultArgon2: 64 MiB, two
//     passes, one thread; the parameters are stored in the PHC string with
//     each hash, so a change of defaults keeps old hashes valid). A password
//     has at least MinPasswordLen characters, is not in the bundled list of
//     common passwords (common_passwords.txt, compiled by commonpw_gen.go
//     from hand-picked base words, not copied from any breach corpus), does
//     not contain the principal's name and is not one character repeated.
//     Setting a password clears the lockout and ends the person's sessions.
//   - TOTP is RFC 6238 (SHA-1, six digits, 30-second steps, one step of
//     drift either way) through github.com/pquerna/otp. BeginTOTP returns
//     a new secret once; it takes effect when ConfirmTOTP gets a valid code
//     from it, which also returns ten recovery codes (80 random bits each,
//     stored as SHA-256, each usable once in place of a code). The last
//     time step used is stored, and a code of that step or an earlier one
//     is refused, so a code works once even within its window.
//   - SignIn answers every refusal with ErrUnauthenticated after the same
//     work (one Argon2id computation, also for unknown names). Refusals of
//     a known person count; the MaxFailures-th in a row locks the account
//     for LockoutFor, during which even the right password and code are
//     refused with the same answer. Success resets the count. Throttling
//     by source address is the server's job. At most GOMAXPROCS password
//     hashes run at once on a node; further attempts wait for a slot, so a
//     burst costs time rather than 64 MiB per attempt.
//   - A session token is "scs_" and 32 random bytes in base64url; only its
//     SHA-256 is stored. A session ends after SessionIdle without use,
//     SessionMax after sign-in, on EndSession (sign-out), EndSessions (an
//     admin's revocation), a new password, or the person's disabling.
//
// # Customer tokens
//
// IssueCustomerToken gives the storefront a token ("sct_", stored as
// SHA-256) that stands for one customer for CustomerTokenTTL; it cannot be
// renewed. AuthenticateCustomer returns the customer id, which the server
// turns into a principal of kind customer whose id is that customer's.
//
// # Recovery
//
// Recover, for the local operator only (the admin recover command), clears
// the lockout of every admin person and gives the bootstrap principal a new
// key valid for RecoveryKeyTTL, creating the principal if it is missing and
// re-enabling it if it was disabled: the one exception to disabling being
// final.
//
// # Errors
//
// ErrUnauthenticated, ErrNotFound and ErrExists are matched with errors.Is;
// bad input is an *InvalidError naming the field. No error carries a
// presented key, token, password or code.
//
// # Limits
//
// Keys and tokens are Go strings, which cannot be wiped from memory; they
// live until the garbage collector reclaims them. Roles are stored with the
// principal and checked here only against the known names: what a role may
// do is the policy package's business. TOTP secrets cannot be hashed, as
// the verifier needs them in clear; with SetSealer (KeystoreSealer, which
// package deploy sets) they are sealed under a data key of the person's own
// in the keystore's customer-pii domain, and without one they are stored
// unsealed. Secrets stored before a sealer was set stay unsealed until the
// person enrols again. Session
// use is written on every authenticated request, one small write each. The
// common-password list catches predictable choices only; it is not a
// breach list. Sessions and lockout state live in the database and so hold
// across the nodes of a cluster; throttling by address is per node.
package identity
