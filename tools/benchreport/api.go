package main

import (
	"fmt"
	"strconv"
)

// authz writes the authorization engines side by side: the bench module's
// BenchmarkAuthz* figures, in microseconds per decision.
func (r *report) authz() {
	w := r.w
	fmt.Fprintf(w, "## Authorization decisions\n\n")
	fmt.Fprintf(w, "One decision on generated requests, translation of the request included; the 1,000 policies are\n"+
		"70%% scoped to a principal group and an action, 20%% to an action, 10%% unscoped with a condition\n"+
		"(internal/policy/policygen). A test in bench/ checks that the four engines reach the same decisions,\n"+
		"determining policies and failed policies. Reproduce with `make bench-authz`.\n\n")
	fmt.Fprintf(w, "| engine | policies | per decision | allocs | beside indexed | target | |\n|---|---|---|---|---|---|---|\n")

	indexed, haveIndexed := r.get("BenchmarkAuthz1000Indexed", "ns/op")
	rows := []struct{ label, set, name string }{
		{"SecureCart, indexed", "default set", "BenchmarkAuthzDefaultIndexed"},
		{"SecureCart, indexed", "1,000 generated", "BenchmarkAuthz1000Indexed"},
		{"cedar-go Authorize on the whole PolicySet", "1,000 generated", "BenchmarkAuthz1000CedarGo"},
		{"OPA, prepared Rego query", "1,000 generated", "BenchmarkAuthz1000OPA"},
	}
	for _, row := range rows {
		ns, ok := r.get(row.name, "ns/op")
		if !ok {
			fmt.Fprintf(w, "| %s | %s | not measured | | | | |\n", row.label, row.set)
			continue
		}
		allocs, _ := r.get(row.name, "allocs/op")
		ratio := "-"
		if haveIndexed && row.set != "default set" {
			ratio = fmt.Sprintf("%.1fx", ns/indexed)
		}
		target, verdict := "-", ""
		if row.name == "BenchmarkAuthz1000Indexed" {
			target, verdict = "at most 5 µs", "missed"
			if ns <= 5000 {
				verdict = "met"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s µs | %s | %s | %s | %s |\n",
			row.label, row.set, num(ns/1000), strconv.FormatFloat(allocs, 'f', 0, 64), ratio, target, verdict)
	}
	fmt.Fprintln(w)
}

// api writes the wrk figures of tools/httpbench: requests/s and p99 per
// endpoint, each beside /healthz.
func (r *report) api() {
	w := r.w
	fmt.Fprintf(w, "## HTTPS API under wrk\n\n")
	fmt.Fprintf(w, "wrk -t2 -c32 -d15s with keep-alive against `securecart demo` on SQLite, rate limits raised, each\n"+
		"endpoint in turn in one run; wrk shares the two cores with the server. Reproduce with `make bench-http`.\n\n")
	fmt.Fprintf(w, "| endpoint | requests/s | p99 | of /healthz | target | |\n|---|---|---|---|---|---|\n")

	floor, haveFloor := r.get("BenchmarkHTTP/healthz", "req/s")
	rows := []struct{ label, name string }{
		{"GET /healthz (TLS and HTTP alone)", "BenchmarkHTTP/healthz"},
		{"GET /v1/customers/{id} as developer (one decision, 4 fields opened and masked)", "BenchmarkHTTP/customer"},
		{"POST /v1/orders as app-service (one line, Idempotency-Key)", "BenchmarkHTTP/order"},
	}
	for _, row := range rows {
		rate, ok := r.get(row.name, "req/s")
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | | | |\n", row.label)
			continue
		}
		p99, _ := r.get(row.name, "p99-ms")
		share := "-"
		if haveFloor && row.name != "BenchmarkHTTP/healthz" {
			share = fmt.Sprintf("%.0f%%", 100*rate/floor)
		}
		target, verdict := "-", ""
		if row.name == "BenchmarkHTTP/customer" {
			target, verdict = "at least 50% of /healthz", "missed"
			if haveFloor && rate >= floor/2 {
				verdict = "met"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s ms | %s | %s | %s |\n", row.label, num(rate), num(p99), share, target, verdict)
	}
	fmt.Fprintln(w)
}

// vault writes the card vault's figures from tools/httpbench: tokenize
// under wrk and detokenize under the Go load generator, 16 clients each,
// beside bare durable inserts of the same row by 16 writers.
func (r *report) vault() {
	w := r.w
	fmt.Fprintf(w, "## Card vault over HTTPS\n\n")
	fmt.Fprintf(w, "16 concurrent clients with keep-alive against `securecart demo` on SQLite: tokenize under wrk,\n"+
		"detokenize over mTLS under tools/httpbench's own load generator (wrk cannot present a client\n"+
		"certificate). The floor is a bare durable insert of a vault row of the same shape by 16 writers on\n"+
		"SQLite in the same run. Reproduce with `make bench-http`.\n\n")
	fmt.Fprintf(w, "| operation | requests/s | p99 | of the floor | target | |\n|---|---|---|---|---|---|\n")
	floor, haveFloor := r.get("BenchmarkHTTP/vault-insert-floor", "req/s")
	rows := []struct{ label, name string }{
		{"bare durable insert of a vault row (the floor)", "BenchmarkHTTP/vault-insert-floor"},
		{"POST /v1/payments/tokenize as app-service", "BenchmarkHTTP/tokenize"},
		{"POST /v1/payments/detokenize as payment-provider, mTLS", "BenchmarkHTTP/detokenize"},
	}
	for _, row := range rows {
		rate, ok := r.get(row.name, "req/s")
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | | | |\n", row.label)
			continue
		}
		p99, _ := r.get(row.name, "p99-ms")
		share := "-"
		if haveFloor && row.name != "BenchmarkHTTP/vault-insert-floor" {
			share = fmt.Sprintf("%.2fx", rate/floor)
		}
		target, verdict := "-", ""
		if row.name == "BenchmarkHTTP/tokenize" {
			target, verdict = "at least 0.7x the floor", "missed"
			if haveFloor && rate >= 0.7*floor {
				verdict = "met"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s ms | %s | %s | %s |\n", row.label, num(rate), num(p99), share, target, verdict)
	}
	fmt.Fprintln(w)
}
