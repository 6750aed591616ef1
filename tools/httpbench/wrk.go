package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/securecart/securecart/internal/demo"
)

// target is one endpoint under load and the wrk script that shapes its
// requests.
type target struct {
	name, method, path string
	script             string
	// connections, if set, replaces the run's number of connections.
	connections int
}

// targets returns the three endpoints. run makes each run's idempotency
// keys differ from any earlier run's.
func targets(c demo.Credentials, run int64) []target {
	card := `{"pan":"4111111111111111","exp_month":12,"exp_year":2040,"cardholder_name":"Ada Lovelace"}`
	order := fmt.Sprintf(`{"customer_id":%q,"lines":[{"sku":"SKU-0001","quantity":1}],"currency":"EUR"}`,
		c.Customer)
	return []target{
		{name: "healthz", method: "GET", path: "/healthz", script: mustScript(script{Method: "GET"})},
		{name: "customer", method: "GET", path: "/v1/customers/" + c.Customer, script: mustScript(script{
			Method: "GET", Key: c.Roles["developer"].APIKey,
		})},
		{name: "order", method: "POST", path: "/v1/orders", script: mustScript(script{
			Method: "POST", Key: c.Roles["app-service"].APIKey, Body: order,
			IdempotencyPrefix: "bench-" + strconv.FormatInt(run, 36),
		})},
		{name: "tokenize", method: "POST", path: "/v1/payments/tokenize", connections: vaultClients,
			script: mustScript(script{Method: "POST", Key: c.Roles["app-service"].APIKey, Body: card})},
	}
}

type script struct {
	Method, Key, Body string
	// IdempotencyPrefix, when set, gives every request an Idempotency-Key
	// of its own: the prefix, the wrk thread and a counter.
	IdempotencyPrefix string
}

var scriptTemplate = template.Must(template.New("wrk").Parse(`wrk.method = {{printf "%q" .Method}}
{{- if .Key}}
wrk.headers["Authorization"] = {{printf "%q" (printf "Bearer %s" .Key)}}
{{- end}}
{{- if .Body}}
wrk.headers["Content-Type"] = "application/json"
wrk.body = {{printf "%q" .Body}}
{{- end}}
{{- if .IdempotencyPrefix}}

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local sent = 0
function request()
  sent = sent + 1
  wrk.headers["Idempotency-Key"] = {{printf "%q" .IdempotencyPrefix}} .. "-" .. thread_id .. "-" .. sent
  return wrk.format()
end
{{- end}}
`))

func mustScript(s script) string {
	var b strings.Builder
	if err := scriptTemplate.Execute(&b, s); err != nil {
		panic(err)
	}
	return b.String()
}

type wrkResult struct {
	requests  int64
	perSecond float64
	p99ms     float64
}

var (
	requestsRE = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	rateRE     = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	p99RE      = regexp.MustCompile(`(?m)^\s+99%\s+([\d.]+)(us|ms|s)\s*$`)
	errorsRE   = regexp.MustCompile(`(?m)^\s*(Non-2xx or 3xx responses|Socket errors):.*$`)
)

// runWrk loads baseURL+t.path with keep-alive connections and reads wrk's
// report. Any error or response other than 2xx and 3xx fails the run:
// the figures would not be those of the operation.
func runWrk(ctx context.Context, o options, dir, baseURL string, t target) (wrkResult, error) {
	scriptPath := filepath.Join(dir, t.name+".lua")
	if err := os.WriteFile(scriptPath, []byte(t.script), 0o600); err != nil {
		return wrkResult{}, fmt.Errorf("write wrk script: %w", err)
	}
	conns := o.connections
	if t.connections > 0 {
		conns = t.connections
	}
	cmd := exec.CommandContext(ctx, o.wrk,
		"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", int(o.duration/time.Second)),
		"--latency", "-s", scriptPath, baseURL+t.path)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return wrkResult{}, fmt.Errorf("run wrk: %w", err)
	}
	return parseWrk(string(out))
}

func parseWrk(out string) (wrkResult, error) {
	if m := errorsRE.FindString(out); m != "" {
		return wrkResult{}, fmt.Errorf("wrk reports %s", strings.TrimSpace(m))
	}
	n, r, p := requestsRE.FindStringSubmatch(out), rateRE.FindStringSubmatch(out), p99RE.FindStringSubmatch(out)
	if n == nil || r == nil || p == nil {
		return wrkResult{}, fmt.Errorf("read wrk output:\n%s", out)
	}
	var res wrkResult
	res.requests, _ = strconv.ParseInt(n[1], 10, 64)
	res.perSecond, _ = strconv.ParseFloat(r[1], 64)
	res.p99ms, _ = strconv.ParseFloat(p[1], 64)
	switch p[2] {
	case "us":
		res.p99ms /= 1000
	case "s":
		res.p99ms *= 1000
	}
	return res, nil
}
