package main

import (
	"strings"
	"testing"
)

const wrkReport = `Running 15s test @ https://127.0.0.1:40000/healthz
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  612.00us  21.00ms   90.00%
    Req/Sec    14.90k     1.20k   17.00k    70.00%
  Latency Distribution
     50%    0.98ms
     75%    1.30ms
     90%    1.80ms
     99%  %s
  445000 requests in 15.00s, 60.00MB read
Requests/sec:  29666.67
Transfer/sec:      4.00MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		p99  string
		want float64
	}{
		{"850.00us", 0.85},
		{"3.25ms", 3.25},
		{"1.50s", 1500},
	}
	for _, tt := range tests {
		out := strings.Replace(wrkReport, "%s", tt.p99, 1)
		got, err := parseWrk(out)
		if err != nil {
			t.Fatalf("p99 %s: %v", tt.p99, err)
		}
		if got.requests != 445000 || got.perSecond != 29666.67 || got.p99ms != tt.want {
			t.Errorf("p99 %s: got %+v", tt.p99, got)
		}
	}
}

func TestParseWrkRefuses(t *testing.T) {
	ok := strings.Replace(wrkReport, "%s", "3.25ms", 1)
	for name, out := range map[string]string{
		"non-2xx":       strings.Replace(ok, "Requests/sec:", "  Non-2xx or 3xx responses: 12\nRequests/sec:", 1),
		"socket errors": strings.Replace(ok, "Requests/sec:", "  Socket errors: connect 0, read 3, write 0, timeout 0\nRequests/sec:", 1),
		"no latency":    strings.Replace(ok, "     99%  3.25ms\n", "", 1),
	} {
		if got, err := parseWrk(out); err == nil {
			t.Errorf("%s: accepted as %+v", name, got)
		}
	}
}

func TestScripts(t *testing.T) {
	for _, s := range []script{
		{Method: "GET"},
		{Method: "POST", Key: "k", Body: `{"a":"b"}`, IdempotencyPrefix: "bench-x"},
	} {
		lua := mustScript(s)
		if !strings.Contains(lua, `wrk.method = "`+s.Method+`"`) {
			t.Errorf("%+v: no method in\n%s", s, lua)
		}
		if s.Key != "" && !strings.Contains(lua, `"Bearer k"`) {
			t.Errorf("%+v: no key in\n%s", s, lua)
		}
		if s.Body != "" && !strings.Contains(lua, `wrk.body = "{\"a\":\"b\"}"`) {
			t.Errorf("%+v: no body in\n%s", s, lua)
		}
		if got := strings.Contains(lua, "Idempotency-Key"); got != (s.IdempotencyPrefix != "") {
			t.Errorf("%+v: Idempotency-Key set %v in\n%s", s, got, lua)
		}
	}
}
