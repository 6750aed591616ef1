// Package scan finds sensitive data in text: payment card numbers,
// personal data (emails, phone numbers, US social security numbers, bank
// accounts, IP addresses) and secrets. The log redactor runs it on every
// line it writes; `securecart scan` runs it over files, buckets and the
// store's free text.
//
// # Two uses
//
// Redaction. Redact replaces each match of Find with a mask, and the log
// handler (internal/logging) applies it to everything it writes:
//
//	detector        mask                          example
//	card            [card ••••<last four digits>] [card ••••1111]
//	email           <first letter>•••@<domain>    j•••@example.com
//	phone           [phone]                       [phone]
//	anything else   [redacted <detector>]         [redacted iban]
//
// Find and Redact use LogSet: every detector but ipv4 and ipv6. IP
// addresses stay in clear in logs because operators need them to trace a
// request or block a client. Redaction ignores confidence and
// allow-lists: whatever a detector matches is masked, a published test
// card number included.
//
// Scanning. A Scanner (NewScanner) runs all the detectors, or those of
// Options.Detectors, drops findings below Options.MinConfidence
// (DefaultMinConfidence, 0.5) and those an AllowList allows, adds custom
// detectors, and reports each Finding with its object, line, column and
// byte offset, and a masked Sample; never the value in clear. It reads an
// io.Reader (Scanner.Reader), a file (Scanner.File, gzip and zstd
// decompressed by their magic bytes, binary content skipped and said so)
// or a value in memory (Scanner.Text). Beside it, package objscan scans
// the buckets of the object storage (any bucket, SecureCart's sealed
// backups opened in memory), storescan the store's free-text fields, and
// report writes what a scan found as a table, JSON or SARIF 2.1.0.
//
// A match covers the sensitive bytes only, not the words around them: in
// "Authorization: Bearer abc…" it covers the token, and in
// "postgres://app:hunter2@db" the password.
//
// # Detectors
//
//   - card (high): 12 to 19 digits, unbroken or grouped by single spaces or
//     single dashes (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4, and in general
//     groups of four with a last group of one to four). The number must
//     pass the Luhn check and begin with the IIN of a known brand, at a
//     length that brand issues: Visa (4; 13, 16 or 19 digits), Mastercard
//     (51-55, 2221-2720; 16), American Express (34, 37; 15), Discover
//     (6011, 644-649, 65; 16-19), JCB (3528-3589; 16-19), Diners Club
//     (300-305, 36, 38, 39; 14-19) and UnionPay (62; 16-19). Match.Brand
//     names the brand.
//   - email (medium): a local part of letters, digits and ._%+- (at most
//     64), "@", and a domain of at least two labels whose last is two or
//     more letters. "root@localhost" is not an email.
//   - phone (medium): E.164 ("+", a country code not starting with 0, 8 to
//     15 digits, grouped by spaces, dashes and parentheses), or a national
//     form ("(415) 555-0100", "415.555.0100", "020 7946 0958",
//     "06 12 34 56 78": 10 or 11 digits in up to five groups) when a word
//     such as "phone", "tel", "mobile" or "call" comes within 48 bytes
//     before it.
//   - ssn (high): AAA-GG-SSSS or AAA GG SSSS, or nine bare digits after
//     "ssn" or "social security"; area 000, 666 and 900-999, group 00 and
//     serial 0000 are never issued and are rejected, as is the sample
//     number 078-05-1120.
//   - iban (high): a country code, two check digits and the account,
//     without spaces or in groups of four split by single spaces or
//     dashes, at exactly the length of that country's IBANs (about 80
//     countries), passing the ISO 7064 mod-97 check.
//   - ipv4, ipv6 (low): a dotted quad of 0-255 without leading zeros and
//     not followed by a fifth part; eight groups of hex digits, or fewer
//     with one "::", perhaps ending in a dotted quad.
//   - api_key (high): a SecureCart API key, "sck_", 12 lowercase base32
//     characters, "_" and 43 base64url characters.
//   - bearer (high): the token after "Bearer " (any case) when it looks
//     like one: at least 8 characters with a digit or punctuation, or at
//     least 20.
//   - aws_access_key (high): AKIA or ASIA and 16 uppercase letters and
//     digits.
//   - aws_secret_key (high): 40 base64 characters with both cases, within
//     eight bytes of quotes, colons, equals signs or blanks after a name
//     that says what it is: aws_secret_access_key, AWS_SECRET_ACCESS_KEY,
//     SecretAccessKey, aws-secret-key and the like (read without case,
//     '_' and '-': holding "secretaccesskey", or "aws" and "secret").
//   - jwt (high): three (or, encrypted, five) dot-separated base64url
//     segments whose first decodes to a JSON object with an "alg" member.
//   - url_password (high): the password in scheme://user:password@host.
//   - private_key (high): a PEM block whose type ends in "PRIVATE KEY",
//     from BEGIN to END; a block cut short is matched to the end of its
//     base64 body.
//
// Where detections overlap they become one match that spans them all,
// reported under the most specific detector (a private key before an API
// key, an IBAN before the card number its digits may look like, a JWT
// before the bearer token it is): every byte any detector flagged is
// masked.
//
// # Confidence
//
// Each match has a confidence from 0 to 1, from the shape of its value
// and the words within 48 bytes before it and 24 after it on its line.
// Words count where they start a word, ignoring case. For cards, "card",
// "visa", "mastercard", "amex", "pan", "credit", "debit", "payment" and
// "cc" raise it; "order", "uuid", "timestamp", "tracking", "invoice",
// "sku", "serial", "ref" and "ts" lower it:
//
//	card, grouped digits      0.8   up 0.95   down 0.2
//	card, bare digits         0.4   up 0.95   down 0.2
//	ssn, grouped              0.6   up 0.95   down 0.2
//	phone, E.164              0.7   up 0.9    down 0.3
//	iban                      0.9   up 0.99
//	ipv4, ipv6                0.7   up 0.9    down 0.2 ("version", "build", …)
//	secrets, email            0.8 to 0.99
//
// When words of both kinds are near, the base value stands. So a bare run
// of digits that passes the Luhn check with a brand's prefix is not
// reported by a scan unless a word says it is a card: about one random
// 16-digit number in ten passes the Luhn check, and ids are often long
// runs of digits. Lower MinConfidence to 0.4 to see them all. Redaction
// masks them whatever their confidence.
//
// In a CSV or TSV export the word that says what a value is stands in
// the header: when the first line of a text names two or more columns
// (fields split by ',', ';', tab or '|', each starting with a letter), the
// name of the column that holds a card number, SSN, phone number, IBAN or
// IP address counts as words near it, for the rows with as many fields
// as the header. A bare card number under "card_number" is reported at
// 0.95, one under "order_id" at 0.2.
//
// # Allow-lists and custom detectors
//
// A scan configuration file (LoadConfig; `securecart scan --rules FILE`)
// holds allow-lists and custom detectors; see Config for its format.
//
//   - test_cards drops the card numbers the brands and payment providers
//     publish for testing (IsTestCard).
//   - values drops specific values by their HMAC-SHA256 under a key of at
//     least 32 random bytes, hex, in the file hmac_key_file names. The
//     HMAC is of the value's canonical form (Canonical: a card's or SSN's
//     digits, an IBAN in capitals without separators); `securecart scan
//     hmac --key-file KEY --detector card` computes it from standard
//     input. The key keeps the list from being a dictionary of the
//     values: without it, an HMAC cannot be checked against guesses. Keep
//     it out of the repository the list lives in.
//   - paths skips objects whose path matches a glob, where "**" matches
//     any number of path elements ("testdata/**", "**/*.md").
//   - custom adds detectors: a name, a severity, a Go regular expression,
//     keywords that must come within a distance before the match, and an
//     optional validator from the built-in set (luhn, card, iban, ssn).
//     When the expression has a group, the first group is the value the
//     validator checks and the finding covers; otherwise the whole match.
//     With a literal prefix, the expression runs only where a byte search
//     finds the prefix, anchored there and over at most 256 bytes; without
//     one it runs over the whole text, which is about a hundred times
//     slower than the built-in detectors.
//
// Allow-lists apply to scans only, never to log redaction.
//
// # Streaming
//
// Scanner.Reader reads its input in windows of Options.Window bytes (4
// MiB by default) and keeps the last 65 KiB of each for the next, so that
// a value across a boundary is found whole and reported once; 1 KiB
// before each window's new text is read again for the words before a
// value. Memory is one window and its overlap, and the matches of one
// window (a few hundred bytes each, so text dense with findings can take
// a few times the window), whatever the input's size (a scan of 1 GiB peaks under 64 MiB of resident memory; see
// docs/benchmarks.md), and findings are handed to the caller as they are
// found. gzip and zstd streams are read through their decompressors, a
// zstd stream that asks for a window over 8 MiB is refused, and a text
// whose first 8 KiB hold a NUL byte or more than one control character
// in ten is skipped as binary.
//
// # Cost
//
// Find reads its input once. One table lookup per byte finds the
// positions where a detector could start: '+', '@', ':', '-', '_', '(',
// and at the start of a word a digit, an uppercase letter, 's', 'b' or
// 'e'. Only those positions are validated, and no regular expression
// runs. A validation reads one token or a bounded stretch of text around
// its position, so the work stays linear in the input. Redact does not
// allocate when nothing matches. On log text with a sensitive value every
// 10 KB, every detector together runs at about 300 MB per CPU-second,
// some 150 times the speed of one Go regular expression per detector
// (see docs/benchmarks.md and tools/scanbench).
//
// # Testing
//
// internal/scan/scantest generates a labelled corpus from a seed: log
// lines, JSON and CSV with values of every detector planted at known
// offsets and hard negatives beside them (UUIDs, order ids that carry a
// valid card number, timestamps, Luhn-valid digit runs without context,
// version strings, hex digests, nine-digit counts, IBANs with a wrong
// check), and a payments export whose card numbers stand bare under a
// "card_number" column beside order ids under "order_id" that pass the
// same checks. testdata/corpus holds what it makes (go generate rewrites
// it), and TestCorpus reports precision and recall per detector and per
// form of value on it; it requires recall 1.0 on cards with separators,
// with a context word or under a column name, and on IBANs, and precision
// at least 0.95 on every detector.
//
// # Limits
//
//   - The corpus is generated by the same people who wrote the detectors;
//     its figures show the detectors do what they are meant to, not how
//     they fare on text nobody anticipated.
//   - Context is read on the value's own line, 48 bytes back and 24 ahead,
//     and in the name of its column when the text starts with a header
//     line; words farther away do not count. A row whose value starts
//     more than 1 KiB into it, or that has another number of fields than
//     the header, gets no column name.
//   - Cards in unusual groupings, phone numbers in national forms without
//     a word before them or of other lengths than 10 or 11 digits, SSNs
//     written without separators or context, IBANs in lowercase, emails
//     with quoted or non-ASCII local parts, and URL passwords containing
//     "/" are not found.
//   - AWS secret keys are found only after a name that says so; a camel
//     case name inside a longer word ("awsSecretAccessKey") is not read as
//     one.
//   - Bearer tokens and JWTs longer than the 65 KiB window overlap are cut
//     at a window boundary in a streamed scan, and reported in part.
//   - A grouped SSN shape (AAA-GG-SSSS) with no word near it is reported at
//     0.6: other identifiers use that shape too.
//   - A 16-digit order number that passes the Luhn check with a brand's
//     prefix and sits next to "card" is reported, and masked in logs.
//
// The package imports nothing else of SecureCart.
package scan
