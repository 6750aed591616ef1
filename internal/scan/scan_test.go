package scan

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// hit is a match as the tests write it: the detector and the bytes matched.
type hit struct {
	detector string
	text     string
}

func (h hit) String() string { return h.detector + ":" + h.text }

func hits(text string, ms []Match) []hit {
	var out []hit
	for _, m := range ms {
		out = append(out, hit{m.Detector, text[m.Start:m.End]})
	}
	return out
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Test values. The key and token are made up; the card numbers are the
// brands' published test numbers.
var (
	testKey     = "sck_abcdefgh2345_" + strings.Repeat("Ab3-_x", 7) + "Q"
	testJWT     = b64(`{"alg":"HS256","typ":"JWT"}`) + "." + b64(`{"sub":"c_1"}`) + ".c2lnbmF0dXJl"
	testPEMBody = "MIIEowIBAAKCAQEAvY3fH1Qq8ZPBsiiBcjYt0y2aQb3Kx7\nQ2lzT1RlYzF3ZzBz\n"
	testPEM     = "-----BEGIN RSA PRIVATE KEY-----\n" + testPEMBody + "-----END RSA PRIVATE KEY-----"
)

func TestFind(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []hit
	}{
		{"empty", "", nil},
		{"plain log", `level=INFO msg="order created" order=ord_01HZX status=201`, nil},

		{"card bare", "pan=4111111111111111 ok", []hit{{DetectorCard, "4111111111111111"}}},
		{"card spaces", "card 4111 1111 1111 1111.", []hit{{DetectorCard, "4111 1111 1111 1111"}}},
		{"card dashes", `"4111-1111-1111-1111"`, []hit{{DetectorCard, "4111-1111-1111-1111"}}},
		{"card amex 4-6-5", "3782 822463 10005", []hit{{DetectorCard, "3782 822463 10005"}}},
		{"card diners 4-6-4", "3056-930902-5904", []hit{{DetectorCard, "3056-930902-5904"}}},
		{"card then year", "4111 1111 1111 1111 2031", []hit{{DetectorCard, "4111 1111 1111 1111"}}},
		{"card at end", "x:4111111111111111", []hit{{DetectorCard, "4111111111111111"}}},
		{"two cards dashed", "4111-1111-1111-1111-5555-5555-5555-4444", []hit{
			{DetectorCard, "4111-1111-1111-1111"},
			{DetectorCard, "5555-5555-5555-4444"},
		}},
		{"card luhn invalid", "4111111111111112", nil},
		{"card no brand", "1234567812345670", nil},
		{"card brand wrong length", "411111111111116", nil},
		{"card mixed separators", "4111 1111-1111 1111", nil},
		{"card double spaces", "4111  1111  1111  1111", nil},
		{"card 20 digits", "41111111111111111113", nil},
		{"order id dashed", "ORD-4111111111111111", nil},
		{"order id underscore", "ord_4111111111111111", nil},
		{"order id suffix", "4111111111111111-refund", nil},
		{"timestamp millis", "ts=1718112345678", nil},
		{"timestamp nanos", "ts=1718112345678901234", nil},
		{"timestamp rfc3339", "2024-06-11T10:15:30.123456789Z", nil},
		{"timestamp compact", "20240611101530123", nil},
		{"uuid", "123e4567-e89b-12d3-a456-426614174000", nil},
		{"uuid digits", "41111111-1111-4111-8111-111111111111", nil},
		{"version", "v4.1111111111111111 and 1.4111111111111111", nil},
		{"decimal", "4111111111111111.25", nil},

		{"email", "from john.doe@example.com.", []hit{{DetectorEmail, "john.doe@example.com"}}},
		{"email tag", "<a+tag@mail.example.co.uk>", []hit{{DetectorEmail, "a+tag@mail.example.co.uk"}}},
		{"email mailto", "mailto:jane@example.org", []hit{{DetectorEmail, "jane@example.org"}}},
		{"email no dot", "foo@bar", nil},
		{"email localhost", "root@localhost:22", nil},
		{"email numeric tld", "user@10.0.0.1", nil},
		{"email no local", "@example.com", nil},
		{"email url user", "https://john@example.com/x", []hit{{DetectorEmail, "john@example.com"}}},

		{"phone", "tel +14155550100", []hit{{DetectorPhone, "+14155550100"}}},
		{"phone grouped", "+1 (415) 555-0100 call", []hit{{DetectorPhone, "+1 (415) 555-0100"}}},
		{"phone uk", "+44 20 7946 0958", []hit{{DetectorPhone, "+44 20 7946 0958"}}},
		{"phone key=value", "phone=+49-30-1234567", []hit{{DetectorPhone, "+49-30-1234567"}}},
		{"phone then number", "+14155550100 12345678", []hit{{DetectorPhone, "+14155550100"}}},
		{"phone short", "+1234567", nil},
		{"phone zone", "10:15:30+01:00 +0200", nil},
		{"phone in word", "x+14155550100", nil},
		{"phone too long", "+1234567890123456", nil},

		{"api key", "key=" + testKey + ";", []hit{{DetectorAPIKey, testKey}}},
		{"api key prefix only", "key sck_abcdefgh2345_…", nil},
		{"api key short", testKey[:len(testKey)-1], nil},
		{"api key long", testKey + "A", nil},
		{"api key upper id", "sck_ABCDEFGH2345_" + testKey[17:], nil},

		{"bearer", "Authorization: Bearer abc123def456", []hit{{DetectorBearer, "abc123def456"}}},
		{"bearer lower", "authorization: bearer QUJDREVGR0hJSktMTU5PUA==", []hit{
			{DetectorBearer, "QUJDREVGR0hJSktMTU5PUA=="},
		}},
		{"bearer prose", "Bearer tokens and the bearer of bad news", nil},
		{"bearer short", "Bearer a1", nil},

		{"aws", "id=AKIAIOSFODNN7EXAMPLE", []hit{{DetectorAWSKey, "AKIAIOSFODNN7EXAMPLE"}}},
		{"aws session", "ASIAIOSFODNN7EXAMPLE", []hit{{DetectorAWSKey, "ASIAIOSFODNN7EXAMPLE"}}},
		{"aws short", "AKIAIOSFODNN7EXAMPL", nil},
		{"aws long", "AKIAIOSFODNN7EXAMPLEX", nil},
		{"aws in word", "XAKIAIOSFODNN7EXAMPLE", nil},

		{"jwt", "token=" + testJWT + " ok", []hit{{DetectorJWT, testJWT}}},
		{"jwt bearer", "Bearer " + testJWT, []hit{{DetectorJWT, testJWT}}},
		{"jwt unsecured", b64(`{"alg":"none"}`) + "." + b64(`{}`) + ".", []hit{
			{DetectorJWT, b64(`{"alg":"none"}`) + "." + b64(`{}`) + "."},
		}},
		{"jwt no alg", b64(`{"typ":"JWT"}`) + "." + b64(`{}`) + ".c2ln", nil},
		{"jwt two segments", b64(`{"alg":"HS256"}`) + "." + b64(`{}`), nil},
		{"jwt not json", "eyJub3Q.anNvbg.c2ln", nil},

		{"url password", "dsn=postgres://app:hunter2@db.internal:5432/shop", []hit{
			{DetectorURLPassword, "hunter2"},
		}},
		{"url password with @", "https://u:p@ss@example.com/", []hit{{DetectorURLPassword, "p@ss"}}},
		{"url password email host", "ftp://a:secret1@files.example.com", []hit{
			{DetectorURLPassword, "secret1"},
		}},
		{"url port only", "https://example.com:8443/path", nil},
		{"url user only", "ssh://git@host/repo", nil},

		{"pem", "key:\n" + testPEM + "\nnext", []hit{{DetectorPrivateKey, testPEM}}},
		{"pem escaped", `{"k":"` + strings.ReplaceAll(testPEM, "\n", `\n`) + `"}`, []hit{
			{DetectorPrivateKey, strings.ReplaceAll(testPEM, "\n", `\n`)},
		}},
		{"pem truncated", `"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN"`, []hit{
			{DetectorPrivateKey, `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN`},
		}},
		{"pem certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", nil},
		{"pem public key", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", nil},

		{"several", "a@b.io paid 5555555555554444 with " + testKey, []hit{
			{DetectorEmail, "a@b.io"},
			{DetectorCard, "5555555555554444"},
			{DetectorAPIKey, testKey},
		}},
		{"card in email", "4111111111111111@example.com", []hit{
			{DetectorCard, "4111111111111111@example.com"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hits(tt.in, Find([]byte(tt.in)))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Find(%q)\n got %v\nwant %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFindOrderedDisjoint(t *testing.T) {
	in := "Bearer " + testJWT + " +14155550100 x@y.io 4111111111111111 " + testPEM
	ms := Find([]byte(in))
	if len(ms) != 5 {
		t.Fatalf("got %d matches, want 5: %v", len(ms), hits(in, ms))
	}
	for i, m := range ms {
		if m.Start >= m.End || m.End > len(in) {
			t.Errorf("match %d: bad range [%d,%d)", i, m.Start, m.End)
		}
		if i > 0 && m.Start < ms[i-1].End {
			t.Errorf("match %d overlaps match %d", i, i-1)
		}
	}
}

func TestSeverity(t *testing.T) {
	in := "x@y.io " + testKey
	ms := Find([]byte(in))
	if len(ms) != 2 || ms[0].Severity != SeverityMedium || ms[1].Severity != SeverityHigh {
		t.Errorf("Find(%q) = %+v, want a medium email and a high API key", in, ms)
	}
}
