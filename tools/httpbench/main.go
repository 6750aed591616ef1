// Command httpbench measures the HTTPS API with wrk: it builds
// cmd/securecart, starts `securecart demo` on a fresh data directory with
// the developer's and the app-service's rate limits raised out of the way,
// and runs wrk with keep-alive against three endpoints in turn:
//
//   - GET /healthz, the floor that TLS and HTTP alone allow;
//   - GET /v1/customers/{id} as the developer: a key check, one decision,
//     four fields opened and masked;
//   - POST /v1/orders as the app-service, each with its own
//     Idempotency-Key;
//   - POST /v1/payments/tokenize as the app-service, 16 connections.
//
// Then, with a Go load generator since wrk cannot present a client
// certificate, POST /v1/payments/detokenize as the payment provider over
// mTLS with 16 clients; and the storage floor of tokenize, bare durable
// inserts of a vault row by 16 writers on SQLite, in the same run.
//
// It prints one line per endpoint in the format of `go test -bench`, with
// requests/s and the 99th percentile latency, so that tools/benchreport
// reads them beside the Go benchmarks. Run it from the module root:
//
//	go run ./tools/httpbench >> docs/bench/http.txt
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "how long wrk loads each endpoint")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.connections, "connections", 32, "wrk connections, kept alive")
	flag.StringVar(&o.wrk, "wrk", "wrk", "wrk binary")
	flag.Parse()

	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(1)
	}
}

type options struct {
	duration    time.Duration
	threads     int
	connections int
	wrk         string
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "securecart-httpbench-")
	if err != nil {
		return fmt.Errorf("make work directory: %w", err)
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "securecart")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/securecart")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build securecart: %w", err)
	}

	srv, err := startDemo(ctx, bin, dir)
	if err != nil {
		return err
	}
	defer srv.stop()

	for _, t := range targets(srv.creds, time.Now().UnixNano()) {
		fmt.Fprintf(os.Stderr, "httpbench: %s %s for %s\n", t.method, t.path, o.duration)
		r, err := runWrk(ctx, o, dir, srv.creds.BaseURL, t)
		if err != nil {
			return fmt.Errorf("%s %s: %w", t.method, t.path, err)
		}
		fmt.Printf("BenchmarkHTTP/%s\t%d\t%.0f req/s\t%.3f p99-ms\n", t.name, r.requests, r.perSecond, r.p99ms)
	}

	fmt.Fprintf(os.Stderr, "httpbench: POST /v1/payments/detokenize over mTLS for %s\n", o.duration)
	r, err := detokenizeLoad(ctx, srv.creds, o.duration)
	if err != nil {
		return err
	}
	fmt.Printf("BenchmarkHTTP/detokenize\t%d\t%.0f req/s\t%.3f p99-ms\n", r.requests, r.perSecond, r.p99ms)

	fmt.Fprintf(os.Stderr, "httpbench: bare durable vault inserts for %s\n", o.duration)
	r, err = insertFloor(ctx, dir, o.duration)
	if err != nil {
		return err
	}
	fmt.Printf("BenchmarkHTTP/vault-insert-floor\t%d\t%.0f req/s\t%.3f p99-ms\n", r.requests, r.perSecond, r.p99ms)
	return nil
}
