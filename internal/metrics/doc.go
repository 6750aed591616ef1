// Package metrics holds SecureCart's Prometheus metrics and serves them.
//
// # Use
//
//	m := metrics.New()
//	m.Routes([]string{"/v1/customers", "/v1/customers/{id}"})
//	m.ObserveRequest("/v1/customers/{id}", "GET", 200, elapsed)
//	mux.Handle("GET /metrics", m.Handler())
//
// The metrics live on the Metrics' own registry, not on Prometheus' global
// one, so that two servers in one process (or two tests) do not share
// counts, and a library's stray registration cannot appear on /metrics.
//
// # Metrics
//
//	http_requests_total{route,method,code}        requests served
//	http_request_duration_seconds{route,method}   their latency, a histogram
//	authz_decisions_total{effect}                 "allow" or "deny"
//	rate_limited_total{role}                      requests refused by a limit
//	seal_operations_total{op}                     "seal" or "open", see Read
//	tls_handshake_errors_total                    failed TLS handshakes, see Read
//	backup_shipping_lag_seconds                   age of the oldest unshipped change
//	backup_shipped_position                       last change position shipped
//	backup_shipping_failures                      shipping attempts failed in a row
//	backup_last_snapshot_timestamp_seconds        newest snapshot, see ReadBackups
//	backup_verify_last_timestamp_seconds          last backup verification
//	backup_verify_last_success                    1 if it restored the live store exactly
//
// and the standard go_* and process_* collectors. The keystore and the TLS
// listener count seals, opens and failed handshakes themselves, on their
// hot paths; Read hands their counters to the metrics, which read them at
// each scrape.
//
// # Bounded labels
//
// Every label value comes from a small fixed set, so that a client cannot
// create series at will and no series names a customer, an order or a key.
// The route is the template the request matched ("/v1/customers/{id}"),
// never its path: the caller passes it, and it counts under its own name
// only if it was registered with Routes; anything else counts as "other".
// Methods outside the standard nine, status codes outside 100-599, roles
// not registered with Roles (DefaultRoles until then) count as "other" too.
package metrics
