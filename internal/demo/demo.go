// Package demo loads a believable shop into a new deployment and issues one
// principal per role, so that a newcomer can try the API on a laptop: a
// thousand customers, two hundred products, five thousand orders, and a
// credentials file that says how each role connects.
package demo

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/store"
	"github.com/securecart/securecart/internal/tlsca"
)

// Sizes of the demo shop.
const (
	Customers = 1000
	Products  = 200
	Orders    = 5000
)

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia",
		"Tim", "Margaret", "Dennis", "Shafi", "Leslie", "Sophie", "John", "Katherine", "Linus", "Hedy", "Niklaus"}
	lastNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
		"Perlman", "Berners-Lee", "Hamilton", "Ritchie", "Goldwasser", "Lamport", "Wilson", "McCarthy",
		"Johnson", "Torvalds", "Lamarr", "Wirth"}
	cities = []struct{ city, postal, country string }{
		{"London", "SW1A 1AA", "GB"}, {"Paris", "75004", "FR"}, {"Berlin", "10115", "DE"},
		{"Amsterdam", "1012 AB", "NL"}, {"Lisbon", "1100-148", "PT"}, {"Dublin", "D02 X285", "IE"},
		{"Madrid", "28013", "ES"}, {"Vienna", "1010", "AT"}}
	streets    = []string{"High Street", "Station Road", "Church Lane", "Market Square", "Mill Road", "Park Avenue"}
	adjectives = []string{"Classic", "Organic", "Handmade", "Vintage", "Recycled", "Compact", "Deluxe", "Everyday"}
	things     = []string{"Mug", "Notebook", "Backpack", "Lamp", "Teapot", "Scarf", "Candle", "Bottle", "Apron",
		"Blanket", "Planter", "Cutting Board", "Headphones", "Umbrella", "Wallet", "Socks", "Tote Bag",
		"Desk Tidy", "Coaster Set", "Bread Knife", "Cushion", "Cap", "Sunglasses", "Chopping Set", "Kettle"}
	notes = []string{"", "", "", "Leave with the neighbour at number 12", "Gift wrap please",
		"Ring twice, the bell is broken", "Deliver after 6pm", "Call before delivery"}
)

// Seed loads the demo shop into s, writing from several goroutines.
func Seed(ctx context.Context, s *store.Store) ([]string, error) {
	rng := rand.New(rand.NewPCG(2026, 12))
	var skus []string
	for i := range Products {
		sku := fmt.Sprintf("SKU-%04d", i+1)
		name := adjectives[rng.IntN(len(adjectives))] + " " + things[i%len(things)]
		_, err := s.CreateProduct(ctx, store.NewProduct{SKU: sku, Name: name,
			Description: "A " + strings.ToLower(name) + " from the SecureCart demo shop.",
			Price:       int64(500 + rng.IntN(9500)), Currency: "EUR", Stock: 1_000_000})
		if err != nil {
			return nil, fmt.Errorf("seed products: %w", err)
		}
		skus = append(skus, sku)
	}

	people := make([]store.NewCustomer, Customers)
	for i := range people {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		c := cities[rng.IntN(len(cities))]
		people[i] = store.NewCustomer{
			Name:  first + " " + last,
			Email: fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(last), i),
			Phone: fmt.Sprintf("+44 20 7946 %04d", rng.IntN(10000)),
			Address: store.Address{Line1: fmt.Sprintf("%d %s", 1+rng.IntN(200), streets[rng.IntN(len(streets))]),
				City: c.city, PostalCode: c.postal, Country: c.country},
		}
	}
	ids := make([]string, Customers)
	if err := parallel(ctx, Customers, func(i int) error {
		c, err := s.CreateCustomer(ctx, people[i])
		if err == nil {
			ids[i] = c.ID
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("seed customers: %w", err)
	}

	type plan struct {
		customer string
		lines    []store.NewOrderLine
		notes    string
	}
	plans := make([]plan, Orders)
	for i := range plans {
		p := plan{customer: ids[rng.IntN(len(ids))], notes: notes[rng.IntN(len(notes))]}
		for _, j := range rng.Perm(len(skus))[:1+rng.IntN(3)] {
			p.lines = append(p.lines, store.NewOrderLine{SKU: skus[j], Quantity: int64(1 + rng.IntN(3))})
		}
		plans[i] = p
	}
	if err := parallel(ctx, Orders, func(i int) error {
		_, err := s.CreateOrder(ctx, store.NewOrder{CustomerID: plans[i].customer, Lines: plans[i].lines,
			Currency: "EUR", Notes: plans[i].notes})
		return err
	}); err != nil {
		return nil, fmt.Errorf("seed orders: %w", err)
	}
	return ids, nil
}

// parallel runs fn(0..n-1) on 16 goroutines and returns the first error.
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil || i >= n || ctx.Err() != nil
				mu.Unlock()
				if stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// RoleCredentials is how one role connects.
type RoleCredentials struct {
	Principal string `json:"principal"`
	APIKey    string `json:"api_key"`
	CertFile  string `json:"cert_file,omitempty"`
	KeyFile   string `json:"key_file,omitempty"`
	// Name, Password, TOTPSecret and RecoveryCodes let the dba sign in
	// with MFA (securecart signin).
	Name          string   `json:"name,omitempty"`
	Password      string   `json:"password,omitempty"`
	TOTPSecret    string   `json:"totp_secret,omitempty"`
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

// Credentials is demo-credentials.json.
type Credentials struct {
	BaseURL string                     `json:"base_url"`
	CAFile  string                     `json:"ca_file"`
	Roles   map[string]RoleCredentials `json:"roles"`
	// Customer is a customer id the tour uses.
	Customer string `json:"customer"`
}

// roles lists the demo principals: name, kind and role.
var roles = []struct {
	role string
	kind identity.Kind
}{
	{"developer", identity.KindPerson}, {"security", identity.KindPerson}, {"dba", identity.KindPerson},
	{"app-service", identity.KindService}, {"payment-provider", identity.KindService}, {"admin", identity.KindService},
}

// Principals creates one principal per role with an API key; the payment
// provider also gets a client certificate, written to dir. The people
// (developer, security, dba) keep API keys, which carry no MFA: with them
// they see what a person who has not signed in sees. The dba also gets a
// password and TOTP, so that the tour can sign in and show PII in clear.
func Principals(ctx context.Context, d *identity.Directory, ca *tlsca.CA, dir string) (map[string]RoleCredentials, error) {
	out := map[string]RoleCredentials{}
	for _, r := range roles {
		p, err := d.CreatePrincipal(ctx, "demo-"+r.role, r.kind, []identity.Role{identity.Role(r.role)})
		if err != nil {
			return nil, fmt.Errorf("demo principal %s: %w", r.role, err)
		}
		key, _, err := d.CreateKey(ctx, p.ID, 30*24*time.Hour)
		if err != nil {
			return nil, fmt.Errorf("demo key %s: %w", r.role, err)
		}
		rc := RoleCredentials{Principal: p.ID, APIKey: key.Reveal()}
		if r.role == "payment-provider" {
			certPEM, keyPEM, err := ca.IssueClient(p.ID, 30*24*time.Hour)
			if err != nil {
				return nil, err
			}
			rc.CertFile = filepath.Join(dir, "payment-provider.pem")
			rc.KeyFile = filepath.Join(dir, "payment-provider-key.pem")
			if err := os.WriteFile(rc.CertFile, certPEM, 0o600); err != nil {
				return nil, err
			}
			if err := os.WriteFile(rc.KeyFile, keyPEM, 0o600); err != nil {
				return nil, err
			}
		}
		if r.role == "dba" {
			if err := enrolPerson(ctx, d, p, &rc); err != nil {
				return nil, fmt.Errorf("demo sign-in for %s: %w", r.role, err)
			}
		}
		out[r.role] = rc
	}
	return out, nil
}

// enrolPerson gives p a random password and a confirmed TOTP secret.
func enrolPerson(ctx context.Context, d *identity.Directory, p *identity.Principal, rc *RoleCredentials) error {
	var b [15]byte
	if _, err := crand.Read(b[:]); err != nil {
		return err
	}
	rc.Name = p.Name
	rc.Password = "demo-" + base64.RawURLEncoding.EncodeToString(b[:])
	if err := d.SetPassword(ctx, p.ID, rc.Password); err != nil {
		return err
	}
	e, err := d.BeginTOTP(ctx, p.ID)
	if err != nil {
		return err
	}
	code, err := totp.GenerateCode(e.Secret, time.Now())
	if err != nil {
		return err
	}
	rc.TOTPSecret = e.Secret
	rc.RecoveryCodes, err = d.ConfirmTOTP(ctx, p.ID, code)
	return err
}

// Write stores the credentials with mode 0600.
func (c Credentials) Write(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadCredentials loads a credentials file written by Write.
func ReadCredentials(path string) (Credentials, error) {
	var c Credentials
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

// Tour is the short walk-through printed when the demo starts.
func (c Credentials) Tour() string {
	dev, app := c.Roles["developer"].APIKey, c.Roles["app-service"].APIKey
	var b strings.Builder
	fmt.Fprintf(&b, "SecureCart demo at %s (CA certificate: %s)\n\n", c.BaseURL, c.CAFile)
	fmt.Fprintf(&b, "The same customer as a developer (PII masked):\n")
	fmt.Fprintf(&b, "  curl --cacert %s -H 'Authorization: Bearer %s' %s/v1/customers/%s\n\n", c.CAFile, dev, c.BaseURL, c.Customer)
	fmt.Fprintf(&b, "and as the storefront's app-service (in clear):\n")
	fmt.Fprintf(&b, "  curl --cacert %s -H 'Authorization: Bearer %s' %s/v1/customers/%s\n\n", c.CAFile, app, c.BaseURL, c.Customer)
	fmt.Fprintf(&b, "A developer may not create customers (403):\n")
	fmt.Fprintf(&b, "  curl --cacert %s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"name\":\"X\",\"email\":\"x@example.com\"}' %s/v1/customers\n\n", c.CAFile, dev, c.BaseURL)
	fmt.Fprintf(&b, "The storefront tokenizes a card; only the token comes back:\n")
	fmt.Fprintf(&b, "  TOKEN=$(curl -s --cacert %s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"pan\":\"4111111111111111\",\"exp_month\":12,\"exp_year\":2030}' %s/v1/payments/tokenize | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')\n\n", c.CAFile, app, c.BaseURL)
	if pay, ok := c.Roles["payment-provider"]; ok && pay.CertFile != "" {
		fmt.Fprintf(&b, "and the payment provider, over mTLS with its client certificate, turns it back into the card:\n")
		fmt.Fprintf(&b, "  curl -s --cacert %s --cert %s --key %s -H 'Content-Type: application/json' -d \"{\\\"token\\\":\\\"$TOKEN\\\",\\\"purpose\\\":\\\"capture\\\"}\" %s/v1/payments/detokenize\n\n", c.CAFile, pay.CertFile, pay.KeyFile, c.BaseURL)
	}
	if dba := c.Roles["dba"]; len(dba.RecoveryCodes) > 0 {
		fmt.Fprintf(&b, "A dba sees PII in clear only with MFA: sign in with its password and a TOTP code\n"+
			"(its secret, and one-time recovery codes, are in demo-credentials.json), then use the\n"+
			"printed session token as the Bearer:\n")
		fmt.Fprintf(&b, "  SECURECART_PASSWORD='%s' securecart signin --url %s --ca-file %s --name %s --code %s\n\n",
			dba.Password, c.BaseURL, c.CAFile, dba.Name, dba.RecoveryCodes[len(dba.RecoveryCodes)-1])
	}
	fmt.Fprintf(&b, "Every role's key is in demo-credentials.json. Stop with Ctrl-C.\n")
	return b.String()
}
