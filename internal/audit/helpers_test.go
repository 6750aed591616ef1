package audit

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "test.example/audit"

// testKey is a checkpoint signing key pair made for one test.
type testKey struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

func newTestKey(t testing.TB) testKey {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{signer: s, verifier: v, vkey: vkey}
}

// sampleRecord returns a plausible record; i varies its fields.
func sampleRecord(i int) *Record {
	r := &Record{
		Phase:     PhaseRequest,
		Time:      time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
		RequestID: fmt.Sprintf("req-%08d", i),
		Principal: Principal{ID: fmt.Sprintf("prn_%d", i%7), Kind: "service", Roles: []string{"app-service"}},
		Source: Source{Address: "10.0.0.7:51234", TLSVersion: 0x0304,
			ClientCert: "CN=storefront,O=Shop", UserAgent: "storefront/1.4 (linux)"},
		Action:   "readCustomer",
		Resource: Resource{Type: "Customer", ID: fmt.Sprintf("cus_%d", i)},
		Decision: Decision{Effect: EffectAllow, Policies: []string{"app-service-customers"}},
		Fields:   []string{"customer.email", "customer.name"},
	}
	if i%4 == 2 {
		r.Action, r.Resource, r.Purpose = "detokenize", Resource{Type: "CardToken", ID: fmt.Sprintf("tok_%d", i)}, "capture"
	}
	if i%2 == 1 {
		r.Phase = PhaseOutcome
		r.RequestSeq = uint64(i - 1)
		r.Outcome = Outcome{Status: 200}
		if i%10 == 3 {
			r.Outcome = Outcome{Status: 403, ErrorCode: "forbidden"}
			r.Decision.Effect = EffectDeny
		}
	}
	return r
}

func openTestLog(t testing.TB, dir string, k testKey, tweak func(*Options)) *Log {
	t.Helper()
	o := Options{Origin: testOrigin, Signer: k.signer, CheckpointEvery: time.Hour}
	if tweak != nil {
		tweak(&o)
	}
	l, err := Open(dir, o)
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	return l
}

// appendN appends n sample records from w goroutines and returns the
// sequence numbers in the order of the records' index.
func appendN(t testing.TB, l *Log, start, n, w int) []uint64 {
	t.Helper()
	seqs := make([]uint64, n)
	var wg sync.WaitGroup
	errs := make(chan error, w)
	for g := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += w {
				s, err := l.Append(t.Context(), sampleRecord(start+i))
				if err != nil {
					errs <- err
					return
				}
				seqs[i] = s
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return seqs
}

func randN(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err)
	}
	return int(v.Int64())
}
