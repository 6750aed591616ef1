package tlsca

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

const (
	msgHandshake  = "tls handshake failed"
	msgSuppressed = "suppressed handshake errors"
)

func TestHandshakeErrorsRateLimit(t *testing.T) {
	const perMinute = 3
	rec := &recorder{}
	clk := newFakeClock()
	h := NewHandshakeErrors(slog.New(rec), perMinute)
	h.clock = clk
	lg := h.Logger()

	// Lines per one-minute window, and how many of them reach the log.
	windows := []struct{ lines, logged int }{
		{10, 3},
		{2, 2},
		{4, 3},
		{0, 0},
		{1, 1},
	}
	var total, logged, timers int
	for _, w := range windows {
		for i := range w.lines {
			lg.Printf("http: TLS handshake error from 192.0.2.1:%d: EOF", 1000+i)
		}
		total += w.lines
		logged += w.logged
		if got := rec.messages()[msgHandshake]; got != logged {
			t.Fatalf("after %d errors: %d lines logged, want %d", total, got, logged)
		}
		if w.lines > w.logged {
			timers++ // the summary waits for the end of the window
			clk.waitCalls(t, timers)
		}
		clk.Advance(time.Minute)
	}
	lg.Print("http: Accept error: too many open files")

	if h.Count() != uint64(total) {
		t.Errorf("Count = %d, want %d", h.Count(), total)
	}
	eventually(t, func() bool { return rec.suppressedTotal() == int64(total-logged) })
	msgs := rec.messages()
	if msgs[msgSuppressed] != 2 {
		t.Errorf("%d summaries, want one per window that dropped lines (2)", msgs[msgSuppressed])
	}
	if msgs["http server error"] != 1 {
		t.Errorf("other server errors: %d logged, want 1", msgs["http server error"])
	}
}

func TestHandshakeErrorsTruncatesLongLines(t *testing.T) {
	rec := &recorder{}
	h := NewHandshakeErrors(slog.New(rec), 0)
	h.Logger().Printf("http: TLS handshake error from 192.0.2.1:1: %0*d", 10000, 0)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.records) != 1 {
		t.Fatalf("%d records, want 1", len(rec.records))
	}
	rec.records[0].Attrs(func(a slog.Attr) bool {
		if a.Key == logKeyDetail && len(a.Value.String()) > maxDetail {
			t.Errorf("detail of %d bytes logged", len(a.Value.String()))
		}
		return true
	})
}

// TestHandshakeErrorsWithHTTPServer floods a real server with handshakes it
// refuses and checks that every one is counted and few are logged.
func TestHandshakeErrorsWithHTTPServer(t *testing.T) {
	const perMinute, attempts = 4, 12
	ca := sharedCA(t)
	sc, err := NewServerCerts(context.Background(), ca, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	rec := &recorder{}
	h := NewHandshakeErrors(slog.New(rec), perMinute)

	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Proto) }),
		TLSConfig: ServerConfig(sc.GetCertificate, ca.Pool()),
		ErrorLog:  h.Logger(),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()

	for range attempts {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
			MinVersion: tls.VersionTLS10,
			MaxVersion: tls.VersionTLS11,
			RootCAs:    ca.Pool(),
			ServerName: "localhost",
		})
		if err == nil {
			conn.Close()
			t.Fatal("a TLS 1.1 client got through")
		}
	}
	eventually(t, func() bool { return h.Count() == attempts })
	if got := rec.messages()[msgHandshake]; got != perMinute {
		t.Errorf("%d handshake errors logged, want %d", got, perMinute)
	}

	// A good client still gets HTTP/2 over TLS 1.3.
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "HTTP/2.0" || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("served %s over %s", body, tls.VersionName(resp.TLS.Version))
	}
}
