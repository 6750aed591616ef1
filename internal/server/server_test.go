package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type createCustomer struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Age   int    `json:"age"`
}

func TestDecodeJSON(t *testing.T) {
	secret := "4111111111111111"
	cases := []struct {
		name, ct, body string
		ok             bool
		code, field    string
	}{
		{"valid", "application/json", `{"name":"Ada","email":"a@example.com"}`, true, "", ""},
		{"charset", "application/json; charset=utf-8", `{"name":"Ada"}`, true, "", ""},
		{"unknown field", "application/json", `{"name":"Ada","card":"` + secret + `"}`, false, "malformed_body", "card"},
		{"wrong type", "application/json", `{"age":"` + secret + `"}`, false, "invalid_field", "age"},
		{"syntax", "application/json", `{"name":` + secret, false, "malformed_body", ""},
		{"trailing", "application/json", `{"name":"Ada"} {"x":1}`, false, "malformed_body", ""},
		{"empty", "application/json", ``, false, "malformed_body", ""},
		{"form", "application/x-www-form-urlencoded", `name=Ada`, false, "unsupported_media_type", ""},
		{"huge", "application/json", `{"name":"` + strings.Repeat("a", MaxBody) + `"}`, false, "body_too_large", ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "/v1/customers", strings.NewReader(c.body))
		r.Header.Set("Content-Type", c.ct)
		var v createCustomer
		p, ok := DecodeJSON(r, &v)
		if ok != c.ok || p.Code != c.code || p.Field != c.field {
			t.Errorf("%s: ok=%v problem=%+v", c.name, ok, p)
		}
		if strings.Contains(p.Detail, secret) || strings.Contains(p.Title, secret) {
			t.Errorf("%s: the problem repeats the body", c.name)
		}
	}
}

func TestWriteProblem(t *testing.T) {
	rec := httptest.NewRecorder()
	p := ProblemRateLimited
	p.RetryAfter = 3
	p.RequestID = "req_1"
	WriteProblem(rec, p)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "3" ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["type"] != problemBase+"rate_limited" || got["status"] != float64(429) || got["code"] != "rate_limited" {
		t.Fatalf("problem = %v", got)
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRateLimiter(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewRateLimiter(c.now)
	lim := Limit{Rate: 2, Burst: 3}
	for i := range 3 {
		if ok, _ := l.Allow("p1", lim); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.Allow("p1", lim)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("over the burst: ok=%v wait=%v", ok, wait)
	}
	if RetryAfterSeconds(wait) != 1 {
		t.Fatalf("Retry-After %d", RetryAfterSeconds(wait))
	}
	// Another principal has its own bucket.
	if ok, _ := l.Allow("p2", lim); !ok {
		t.Fatal("p2 limited by p1's use")
	}
	c.t = c.t.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("p1", lim); !ok {
		t.Fatal("no token after refill")
	}
	if ok, _ := l.Allow("p1", lim); ok {
		t.Fatal("refill gave more than the rate")
	}
	// Idle buckets are dropped.
	c.t = c.t.Add(2 * time.Minute)
	l.Allow("p3", lim)
	l.mu.Lock()
	n := len(l.buckets)
	l.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d buckets kept, want 1", n)
	}
	if ok, _ := l.Allow("any", Limit{}); !ok {
		t.Fatal("a zero limit should not limit")
	}
}
