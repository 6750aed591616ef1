package scantest

import (
	"fmt"
	"strings"
)

// Label is a sensitive value planted in a corpus file.
type Label struct {
	File     string `json:"file"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	Detector string `json:"detector"`
	// Form says how the value is written, for the detectors that care:
	// "grouped" (a card or IBAN with its usual separators), "bare"
	// (digits alone with no word about them), "context" (a word says
	// what it is), "column" (bare digits in a CSV column whose name says
	// what they are), or "".
	Form string `json:"form,omitempty"`
}

// Corpus is a set of files with labelled sensitive values and counted
// hard negatives.
type Corpus struct {
	Files     map[string][]byte
	Labels    []Label
	Negatives map[string]int // hard negatives planted, by kind
}

// snippet is one planted item: text around a value. A negative has no
// detector.
type snippet struct {
	before, value, after string
	detector, form       string
	negative             string // kind of hard negative, or ""
}

// positives returns one snippet of each positive kind, n times over.
func (g *gen) positive(kind int) snippet {
	switch kind {
	case 0:
		return snippet{before: g.pick("charged card ", "visa ", "card number ", "pan="), value: groupCard(g.cardDigits(), " "), detector: "card", form: "grouped"}
	case 1:
		return snippet{before: g.pick("note: pay with ", "customer wrote ", "cc "), value: groupCard(g.cardDigits(), "-"), detector: "card", form: "grouped"}
	case 2:
		return snippet{before: g.pick("card=", "credit card ", "payment card: ", "mastercard "), value: g.cardDigits(), detector: "card", form: "context"}
	case 3:
		return snippet{before: g.pick("value ", "got ", "n="), value: g.cardDigits(), detector: "card", form: "bare"}
	case 4:
		return snippet{before: g.pick("email ", "sent receipt to ", "customer "), value: g.email(), detector: "email"}
	case 5:
		return snippet{before: g.pick("phone ", "sms to ", "contact "), value: g.e164(), detector: "phone"}
	case 6:
		return snippet{before: g.pick("phone: ", "call back on ", "mobile "), value: g.nationalPhone(), detector: "phone", form: "context"}
	case 7:
		return snippet{before: g.pick("ssn ", "SSN: ", "social security number "), value: g.ssn(), detector: "ssn", form: "context"}
	case 8:
		return snippet{before: g.pick("refund to IBAN ", "iban=", "bank account "), value: g.ibanCompact(), detector: "iban"}
	case 9:
		return snippet{before: g.pick("IBAN ", "transfer to ", "beneficiary account "), value: groupIBAN(g.ibanCompact()), detector: "iban", form: "grouped"}
	case 10:
		return snippet{before: g.pick("client ", "remote_addr=", "from "), value: g.ipv4(), detector: "ipv4"}
	case 11:
		return snippet{before: g.pick("client ", "peer "), value: g.ipv6(), detector: "ipv6"}
	case 12:
		return snippet{before: g.pick("api key ", "key="), value: g.apiKey(), detector: "api_key"}
	case 13:
		return snippet{before: "Authorization: Bearer ", value: g.bearer(), detector: "bearer"}
	case 14:
		return snippet{before: g.pick("aws key ", "access_key_id=", "using "), value: g.awsKeyID(), detector: "aws_access_key"}
	case 15:
		return snippet{before: g.pick("aws_secret_access_key=", "AWS_SECRET_ACCESS_KEY: ", "SecretAccessKey "), value: g.awsSecret(), detector: "aws_secret_key"}
	case 16:
		return snippet{before: g.pick("token ", "id_token="), value: g.jwt(), detector: "jwt"}
	case 17:
		pre, pw, post := g.urlPassword()
		return snippet{before: "dsn " + pre, value: pw, after: post, detector: "url_password"}
	}
	return snippet{}
}

// positiveWeights is how often each positive kind is planted, per 100.
var positiveWeights = []int{8, 5, 5, 2, 8, 5, 4, 6, 4, 4, 5, 3, 3, 3, 6, 4, 4, 3}

// negative returns a hard negative of kind k.
func (g *gen) negative(k int) snippet {
	var s snippet
	switch k {
	case 0:
		s = snippet{before: g.pick("request ", "trace_id=", "uuid "), value: g.uuid(), negative: "uuid"}
	case 1:
		s = snippet{before: g.pick("order ", "created "), value: g.pick("ORD-", "ord_", "INV-") + g.cardDigits(), negative: "order id"}
	case 2:
		s = snippet{before: g.pick("order id ", "tracking number ", "invoice "), value: g.cardDigits(), negative: "order id"}
	case 3:
		s = snippet{before: g.pick("ts=", "at "), value: g.pick(
			fmt.Sprint(1700000000000+g.r.Int64N(1e11)),
			fmt.Sprintf("2024-%02d-%02dT%02d:%02d:%02d.%09dZ", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1e9)),
			fmt.Sprint(1700000000000000000+g.r.Int64N(1e17))), negative: "timestamp"}
	case 4:
		s = snippet{before: g.pick("n=", "value ", "got "), value: g.luhnRun(12 + g.r.IntN(8)), negative: "luhn-valid digits"}
	case 5:
		s = snippet{before: g.pick("version ", "go", "release v", "build "), value: fmt.Sprintf("%d.%d.%d", g.r.IntN(20), g.r.IntN(40), g.r.IntN(100)), negative: "version"}
	case 6:
		s = snippet{before: g.pick("sha256 ", "commit ", "etag ", "md5 "), value: g.from(hexS, g.pick3(32, 40, 64)), negative: "hex hash"}
	case 7:
		s = snippet{before: g.pick("count ", "bytes=", "items "), value: g.digits(9), negative: "nine digits"}
	case 8:
		s = snippet{before: g.pick("ref ", "part "), value: g.from("23456789", 1) + g.digits(2) + "-555-" + g.digits(4), negative: "dashed number"}
	case 9:
		c := g.ibanCompact()
		bad := c[:len(c)-1] + string("0123456789"[(int(c[len(c)-1]-'0')+1)%10])
		if c[len(c)-1] > '9' {
			bad = c[:2] + "00" + c[4:]
		}
		s = snippet{before: "account ", value: bad, negative: "bad IBAN"}
	case 10:
		s = snippet{before: g.pick("id ", "key "), value: "AKIA" + g.from(base32U, 12), negative: "short key id"}
	case 11:
		s = snippet{before: "build ", value: fmt.Sprintf("%d.%d.%d.%d", g.r.IntN(10), g.r.IntN(30), g.r.IntN(10), g.r.IntN(1000)), negative: "version"}
	}
	return s
}

var negativeWeights = []int{12, 8, 6, 12, 14, 8, 12, 6, 6, 4, 4, 8}

func pickWeighted(g *gen, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := g.r.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}

// doc writes a file and records where its values went.
type doc struct {
	name   string
	b      strings.Builder
	labels []Label
}

func (d *doc) put(s snippet, escape func(string) string) {
	d.b.WriteString(escape(s.before))
	v := escape(s.value)
	if s.detector != "" {
		d.labels = append(d.labels, Label{File: d.name, Offset: d.b.Len(), Length: len(v), Detector: s.detector, Form: s.form})
	}
	d.b.WriteString(v)
	d.b.WriteString(escape(s.after))
}

func plain(s string) string { return s }

func jsonEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// Generate makes the labelled corpus of the precision and recall test:
// about n items (half positives, half hard negatives) in a log file, a
// JSON-lines file and a CSV file, between lines that hold neither.
func Generate(seed uint64, n int) Corpus {
	g := newGen(seed)
	c := Corpus{Files: map[string][]byte{}, Negatives: map[string]int{}}
	docs := []*doc{{name: "app.log"}, {name: "events.jsonl"}, {name: "customers.csv"}}
	docs[2].b.WriteString("id,created_at,status,note\n")

	for i := 0; i < n; i++ {
		var s snippet
		if i%2 == 0 {
			s = g.positive(pickWeighted(g, positiveWeights))
		} else {
			s = g.negative(pickWeighted(g, negativeWeights))
			c.Negatives[s.negative]++
		}
		if i%97 == 0 {
			s = g.privateKey()
		}
		d := docs[i%3]
		g.line(d, s)
		for k := g.r.IntN(3); k > 0; k-- {
			g.line(d, snippet{before: g.pick("cache warm", "GET /v1/products 200", "checkout started", "order shipped")})
		}
	}
	docs = append(docs, g.payments(c, n/20))
	for _, d := range docs {
		c.Files[d.name] = []byte(d.b.String())
		c.Labels = append(c.Labels, d.labels...)
	}
	return c
}

// payments writes an export of n payments: a bare card number under a
// column that says so, beside an order number that passes the same checks
// under one that does not.
func (g *gen) payments(c Corpus, n int) *doc {
	d := &doc{name: "payments.csv"}
	d.b.WriteString("order_id,card_number,amount,currency\n")
	for range n {
		d.put(snippet{value: g.cardDigits(), negative: "order id column"}, plain)
		c.Negatives["order id column"]++
		d.b.WriteString(",")
		d.put(snippet{value: g.cardDigits(), detector: "card", form: "column"}, plain)
		fmt.Fprintf(&d.b, ",%d.%02d,%s\n", 1+g.r.IntN(500), g.r.IntN(100), g.pick("EUR", "USD", "GBP"))
	}
	return d
}

func (g *gen) privateKey() snippet {
	kind := g.pick("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY")
	body := strings.Join(g.pemBody(3+g.r.IntN(4)), "\n")
	return snippet{before: "key loaded: ", value: "-----BEGIN " + kind + "-----\n" + body + "\n-----END " + kind + "-----",
		detector: "private_key"}
}

// line writes s as one record of d's format.
func (g *gen) line(d *doc, s snippet) {
	ts := fmt.Sprintf("2024-06-%02dT%02d:%02d:%02d.%06dZ", 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1e6))
	switch {
	case strings.HasSuffix(d.name, ".log"):
		fmt.Fprintf(&d.b, "%s %s req=%s dur=%d.%03dms msg=", ts, g.pick("INFO", "WARN", "DEBUG"), g.uuid(), g.r.IntN(900), g.r.IntN(1000))
		d.put(s, plain)
		d.b.WriteString("\n")
	case strings.HasSuffix(d.name, ".jsonl"):
		fmt.Fprintf(&d.b, `{"time":"%s","level":"%s","request_id":"%s","status":%d,"msg":"`, ts, g.pick("info", "warn"), g.uuid(), 200+g.r.IntN(5))
		d.put(s, jsonEscape)
		d.b.WriteString("\"}\n")
	default:
		fmt.Fprintf(&d.b, "cus_%d,%s,%s,\"", g.r.IntN(1e7), ts, g.pick("active", "closed"))
		d.put(s, func(x string) string { return strings.ReplaceAll(x, `"`, `""`) })
		d.b.WriteString("\"\n")
	}
}
