package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// noopAuditor acknowledges every record at once and keeps nothing.
type noopAuditor struct{}

func (noopAuditor) Append(context.Context, *audit.Record) (uint64, error) { return 1, nil }
func (noopAuditor) AppendAsync(_ *audit.Record, then func(uint64, error)) error {
	then(1, nil)
	return nil
}

// BenchmarkGetCustomerAudit reads one customer as the developer (a key
// check, one decision, four fields opened and masked) from 16 concurrent
// clients, with the real audit trail (a durable request record before the
// read, an outcome record after) and with a sink that keeps nothing.
func BenchmarkGetCustomerAudit(b *testing.B) {
	for _, sink := range []string{"trail", "noop"} {
		b.Run(sink, func(b *testing.B) {
			ctx := context.Background()
			_, s, pe := openStore(b, sqldbtest.Engines()[0], keys.Config{})
			var auditor server.Auditor = noopAuditor{}
			if sink == "trail" {
				log, _ := openTrail(b)
				defer log.Close()
				auditor = log
			}
			c, err := s.CreateCustomer(ctx, store.NewCustomer{Name: "Ada Lovelace", Email: "ada@example.com",
				Phone: "+44 20 7946 0958", Address: store.Address{City: "London", Country: "GB"}})
			if err != nil {
				b.Fatal(err)
			}
			api := server.New(server.Deps{Store: s, Policy: pe, Identity: principals, Audit: auditor,
				Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("127.0.0.0/8")}}})
			srv := httptest.NewServer(api)
			defer srv.Close()
			defer api.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			url := srv.URL + "/v1/customers/" + c.ID

			b.SetParallelism(32) // 64 clients on 2 cores
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", url, nil)
					req.Header.Set("Authorization", "Bearer dev")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
