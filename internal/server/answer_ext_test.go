package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// Answers come with their length, and an answer in clear followed by a
// masked one (which reuse the same pooled buffer) shows none of the first
// in the second.
func TestJSONAnswerLength(t *testing.T) {
	f := newFixture(t, sqldbtest.Engines()[0], "127.0.0.0/8", nil)
	code, c := f.do("app", "POST", "/v1/customers", ada)
	if code != 201 {
		t.Fatalf("create: %d %v", code, c)
	}
	path := "/v1/customers/" + c["id"].(string)

	for _, key := range []string{"app", "dev", "app", "dev"} {
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", key, resp.StatusCode, err)
		}
		if n, _ := strconv.Atoi(resp.Header.Get("Content-Length")); n != len(body) {
			t.Fatalf("%s: Content-Length %q, body of %d bytes", key, resp.Header.Get("Content-Length"), len(body))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s: Content-Type %q", key, ct)
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v in %s", key, err, body)
		}
		masked := key == "dev"
		if v["masked"] != masked || strings.Contains(string(body), "Lovelace") == masked {
			t.Fatalf("%s: answer %s", key, body)
		}
	}
}
