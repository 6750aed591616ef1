// Package logging is how SecureCart writes its application log: JSON lines
// with no card number, PII or secret in them, to a writer and to an
// in-memory ring that GET /v1/logs serves to developers.
//
// # Use
//
// NewHandler builds the handler the program logs through:
//
//	ring := logging.NewRing(1000)
//	log := slog.New(logging.NewHandler(os.Stderr, ring, nil))
//	keysLog := log.With(logging.KeySubsystem, "keys")
//
// A record passes through three stages: the request id of the record's
// context is added (NewRequestIDHandler), everything is redacted
// (NewRedactingHandler), and the result is written as one JSON line to the
// writer and to the ring.
//
// # Redaction
//
// The redacting handler runs scan.Redact over the message, every attribute
// key and group name, and every value that can carry text: strings, errors
// and fmt.Stringers (through their string form), byte slices (as text,
// rather than base64 that would hide them from the detectors), values of a
// slog.LogValuer (once resolved), integers and floats long enough to be a
// card number, and any other value (a struct, a map, a slice) through its
// JSON encoding, or its %+v form if it has none. It applies as well to
// attributes given to Logger.With, and to groups at any depth. What the
// caller passes does not matter: a line leaves the handler redacted.
//
// scan.Redact applies scan.LogSet: every detector of the scanner (card
// numbers, emails, phone numbers, SSNs, IBANs and the secrets) except the
// IP addresses, which stay in clear because operators need them to trace
// a request, block a client or read a rate-limit decision. The scanner's
// allow-lists never apply here: a published test card number is masked
// like any other, since a log line cannot tell a test from a mistake.
//
// Only scan's detectors are applied: a value that is sensitive but has no
// recognisable shape (a customer's name, a free-text address) is not
// caught. Code must still not log such values.
//
// # Keys
//
// Keys used across packages are the Key constants of this package, named
// once. Each subsystem gets a child logger with KeySubsystem.
//
// # Request ids
//
// WithRequestID stores a request's id in its context and RequestID reads it
// back; NewRequestIDHandler adds it to each record logged with that context
// (Logger.InfoContext and the like) under KeyRequestID, unless the record
// already has the key. It is added to the record's attributes, so a group
// the logger opened with WithGroup holds it too.
//
// # The ring
//
// A Ring keeps the last N lines, each a JSON value, for GET /v1/logs. It is
// safe for concurrent use. Because it is served over HTTP it redacts each
// line once more as it stores it, whoever wrote it. Lines longer than
// MaxLineBytes are cut and kept as a JSON string, so that one huge record
// cannot make the ring hold more than about N × MaxLineBytes.
package logging
