package tlsca

import (
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"
)

func TestServerCertsRenewAtTwoThirds(t *testing.T) {
	ca := sharedCA(t)
	clk := newFakeClock()
	start := clk.Now()
	sc, err := NewServerCerts(context.Background(), ca, ServerOptions{Clock: clk, Validity: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()

	first := sc.Certificate().Leaf
	if !first.NotBefore.Equal(start.Add(-backdate)) || first.NotAfter.Sub(first.NotBefore) != 30*24*time.Hour {
		t.Fatalf("first certificate valid %s to %s", first.NotBefore, first.NotAfter)
	}
	clk.waitCalls(t, 1)

	// Each step advances the clock past the loop's single pending timer,
	// so the loop wakes once per step. The first certificate is due at
	// start+20d-5m, the second 20 days after its own NotBefore.
	steps := []struct {
		advance time.Duration
		renewed bool
	}{
		{19 * 24 * time.Hour, false},
		{23 * time.Hour, false},
		{55 * time.Minute, true}, // exactly two thirds
		{10 * 24 * time.Hour, false},
		{10 * 24 * time.Hour, true},
	}
	serial := first.SerialNumber
	for i, step := range steps {
		clk.Advance(step.advance)
		clk.waitCalls(t, i+2) // the loop is waiting again

		leaf := sc.Certificate().Leaf
		changed := leaf.SerialNumber.Cmp(serial) != 0
		if changed != step.renewed {
			t.Fatalf("step %d (now %s): renewed %v, want %v", i, clk.Now().Sub(start), changed, step.renewed)
		}
		if changed && !leaf.NotBefore.Equal(clk.Now().Add(-backdate)) {
			t.Errorf("step %d: renewed certificate starts %s, want %s", i, leaf.NotBefore, clk.Now().Add(-backdate))
		}
		serial = leaf.SerialNumber
	}

	// The renewed certificate is what a handshake gets.
	res := handshake(t, ServerConfig(sc.GetCertificate, nil), &tls.Config{
		RootCAs:    ca.Pool(),
		ServerName: "localhost",
		Time:       clk.Now,
	})
	if res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("handshake: server %v, client %v", res.serverErr, res.clientErr)
	}
	if got := res.clientState.PeerCertificates[0].SerialNumber; got.Cmp(serial) != 0 {
		t.Errorf("served serial %x, want the renewed %x", got, serial)
	}
}

func TestServerCertsRenewalFailureKeepsCertificate(t *testing.T) {
	ca := sharedCA(t)
	clk := newFakeClock()
	var mu sync.Mutex
	var errs []error
	sc, err := NewServerCerts(context.Background(), ca, ServerOptions{
		Clock: clk,
		OnError: func(err error) {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	before := sc.Certificate()
	clk.waitCalls(t, 1)

	// Past the CA's own expiry nothing can be issued.
	clk.Advance(ca.Certificate().NotAfter.Sub(clk.Now()) + time.Hour)
	clk.waitCalls(t, 2)
	clk.Advance(renewRetry)
	clk.waitCalls(t, 3)

	if sc.Certificate() != before {
		t.Error("a failed renewal replaced the certificate")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 2 {
		t.Fatalf("OnError called %d times, want one per attempt (2)", len(errs))
	}
}

func TestServerCertsDoesNotSpinNearCAExpiry(t *testing.T) {
	ca := sharedCA(t)
	clk := newFakeClock()
	sc, err := NewServerCerts(context.Background(), ca, ServerOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	clk.waitCalls(t, 1)

	// Two minutes before the CA expires, every new leaf is due at once.
	clk.Advance(ca.Certificate().NotAfter.Sub(clk.Now()) - 2*time.Minute)
	clk.waitCalls(t, 2)
	time.Sleep(50 * time.Millisecond)
	if n := clk.callCount(); n != 2 {
		t.Fatalf("the loop woke %d times without the clock moving", n-2)
	}
	if !sc.Certificate().Leaf.NotAfter.Equal(ca.Certificate().NotAfter) {
		t.Error("the leaf does not end with the CA")
	}
}

func TestServerCertsStops(t *testing.T) {
	ca := sharedCA(t)
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, sc *ServerCerts)
	}{
		{"close", func(_ context.CancelFunc, sc *ServerCerts) { sc.Close() }},
		{"context", func(cancel context.CancelFunc, _ *ServerCerts) { cancel() }},
		{"both twice", func(cancel context.CancelFunc, sc *ServerCerts) {
			cancel()
			sc.Close()
			sc.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sc, err := NewServerCerts(ctx, ca, ServerOptions{Clock: newFakeClock()})
			if err != nil {
				t.Fatal(err)
			}
			tt.stop(cancel, sc)
			select {
			case <-sc.done:
			case <-time.After(5 * time.Second):
				t.Fatal("renewal loop still running")
			}
			if sc.Certificate() == nil {
				t.Error("no certificate after stopping")
			}
		})
	}
}

func TestNewServerCertsRejectsBadHosts(t *testing.T) {
	_, err := NewServerCerts(context.Background(), sharedCA(t), ServerOptions{Hosts: []string{"not a host"}})
	if err == nil {
		t.Fatal("NewServerCerts accepted a bad host")
	}
}

func TestRenewalTime(t *testing.T) {
	ca := sharedCA(t)
	for _, validity := range []time.Duration{time.Hour, 3 * time.Hour, MaxServerValidity} {
		cert, err := ca.IssueServer(nil, validity)
		if err != nil {
			t.Fatal(err)
		}
		got := renewalTime(cert).Sub(cert.Leaf.NotBefore)
		want := validity * 2 / 3
		if got != want {
			t.Errorf("validity %v: renewal after %v, want %v", validity, got, want)
		}
	}
}
