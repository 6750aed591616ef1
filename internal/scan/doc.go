// Package scan finds sensitive data in text: payment card numbers, email
// addresses, phone numbers and secrets. The log redactor uses it on every
// line it writes; the scanner of stored objects will use the same detectors.
//
// # Use
//
// Find reports what it found as byte ranges of its input; Redact replaces
// each range with a mask:
//
//	detector        mask                          example
//	card            [card ••••<last four digits>] [card ••••1111]
//	email           <first letter>•••@<domain>    j•••@example.com
//	phone           [phone]                       [phone]
//	any secret      [redacted <detector>]         [redacted api_key]
//
// A match covers the sensitive bytes only, not the words around them: in
// "Authorization: Bearer abc…" it covers the token, and in
// "postgres://app:hunter2@db" the password, so that the redacted text still
// says what it was about.
//
// # Detectors
//
//   - card: 12 to 19 digits, either unbroken or grouped by single spaces or
//     single dashes (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4, and in general groups
//     of four with a last group of one to four). The number must pass the
//     Luhn check and begin with the IIN of a known brand, at a length that
//     brand issues: Visa (4; 13, 16 or 19 digits), Mastercard (51-55,
//     2221-2720; 16), American Express (34, 37; 15), Discover (6011, 644-649,
//     65; 16-19), JCB (3528-3589; 16-19), Diners Club (300-305, 36, 38, 39;
//     14-19) and UnionPay (62; 16-19). Match.Brand names the brand.
//   - email: a local part of letters, digits and ._%+- (at most 64), "@", and
//     a domain of at least two labels whose last is two or more letters.
//     "root@localhost" is therefore not an email: a bare host name is more
//     often a user on a machine than a mailbox.
//   - phone: E.164 only: "+", a country code not starting with 0, and 8 to 15
//     digits in all, which may be grouped by spaces, dashes and parentheses
//     ("+1 (415) 555-0100"). National numbers without "+" are not detected:
//     they cannot be told apart from order numbers and amounts.
//   - api_key: a SecureCart API key, "sck_", 12 lowercase base32 characters,
//     "_" and 43 base64url characters.
//   - bearer: the token after "Bearer " (any case) when it looks like one: at
//     least 8 characters with a digit or punctuation, or at least 20.
//   - aws_access_key: AKIA or ASIA and 16 uppercase letters and digits.
//   - jwt: three (or, encrypted, five) dot-separated base64url segments whose
//     first decodes to a JSON object with an "alg" member.
//   - url_password: the password in scheme://user:password@host.
//   - private_key: a PEM block whose type ends in "PRIVATE KEY", from BEGIN
//     to END; a block cut short (a truncated line) is masked to the end of
//     its base64 body.
//
// Where detections overlap they become one match that spans them all,
// reported under the most specific detector (a private key before an API
// key, a JWT before the bearer token it is, a card before an email whose
// local part it is): every byte any detector flagged is masked.
//
// # Cost
//
// Find reads its input once. A table lookup per byte finds the positions
// where a detector could start: '+', '@', "://", "-----BEGIN ", and at the
// start of a word a digit, "sck_", "Bearer", "AKIA" or "ASIA", and "ey" or
// "ew". Only those positions are validated, and no regular expression
// runs. A validation reads one token or a bounded stretch of text around
// its position, so the work stays linear in the input. Redact does not
// allocate when nothing matches. On 1 MiB of JSON log lines Find runs at
// a few hundred MB/s on one core (see BenchmarkFind).
//
// # Limits
//
// The detectors trade recall for precision where a log line needs it: a
// card number split in unusual groups, a phone number without "+", a
// password containing "/" in a URL (which ends the authority) or an email
// with a quoted or non-ASCII local part are not found. A 16-digit number
// that passes the Luhn check with a card brand's prefix is reported even if
// it is an order number; about one random number in ten passes the check,
// so ids should not be long runs of bare digits.
//
// The package imports nothing else of SecureCart.
package scan
