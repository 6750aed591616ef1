# SecureCart developer targets. `make test` is the README's test command.

PG_DSN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: build test test-postgres lint fuzz bench bench-store bench-authz bench-http bench-scan bench-signin bench-analyzer bench-backup bench-audit

build:
	go build -o securecart ./cmd/securecart

test:
	go test -race ./...

test-postgres:
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' go test -race -count=1 ./internal/...

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...
	go tool staticcheck ./...

fuzz:
	go test ./internal/envelope -run '^$$' -fuzz FuzzParse -fuzztime 60s

# Figures for docs/benchmarks.md. Each target keeps its raw output in
# docs/bench/TARGET.txt, headed by the time and the load average, and
# rebuilds docs/benchmarks.md from every file there, so one section can be
# measured again alone. `make bench` runs them all.
BENCH_DIR := docs/bench
BENCH_TARGETS := bench-store bench-authz bench-http bench-scan bench-signin bench-analyzer bench-backup bench-audit
stamp = mkdir -p $(BENCH_DIR) && echo "\# measured $$(date -u '+%Y-%m-%d %H:%M'), load average $$(cut -d' ' -f1-3 /proc/loadavg)" > $(BENCH_DIR)/$(1).txt
out = | tee -a $(CURDIR)/$(BENCH_DIR)/$(1).txt
report = go run ./tools/benchreport $(BENCH_DIR)/*.txt > docs/benchmarks.md

bench:
	for t in $(BENCH_TARGETS); do $(MAKE) $$t || exit 1; done

# Sealing, store operations and group commit on both engines, then
# 1,000,000 customers for the email lookup and 1,000,000 data keys for the
# rewrap.
bench-store:
	$(call stamp,store)
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' go test -run '^$$' -count 5 -benchtime 2s \
		-bench 'EnvelopeSeal64|EnvelopeOpen64|FieldSeal64|FieldOpen64|RawGCM|CreateCustomer|GetCustomer|DurableCreates' \
		./internal/keys ./internal/store $(call out,store)
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' \
	SECURECART_BENCH_CUSTOMERS=1000000 SECURECART_BENCH_REWRAP_KEYS=1000000 \
	go test -run '^$$' -timeout 60m -bench 'LookupByEmail|Rewrap' -benchtime 3s \
		./internal/keys ./internal/store $(call out,store)
	$(report)

# The authorization engines side by side; the bench/ module keeps OPA out of
# the program's dependencies.
bench-authz:
	$(call stamp,authz)
	cd bench && go test -run '^$$' -count 5 -benchtime 2s -bench Authz . $(call out,authz)
	$(report)

# The HTTPS API and the card vault under load (wrk, from Debian's packages,
# and a Go mTLS client for detokenize), beside the vault's storage floor.
bench-http:
	$(call stamp,http)
	go run ./tools/httpbench $(call out,http)
	$(report)

# Sign-in at the shipped Argon2id cost, on one core.
bench-signin:
	$(call stamp,signin)
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' go test -run '^$$' -cpu 1 -count 5 -benchtime 20x \
		-bench 'SignIn|PasswordHash' ./internal/identity $(call out,signin)
	$(report)

# The access analyzer on the default set and on 1,000 generated policies.
bench-analyzer:
	$(call stamp,analyzer)
	go test -run '^$$' -count 5 -benchtime 3x -bench Analyze ./internal/policy/analyze $(call out,analyzer)
	$(report)

# The sensitive-data scanner: every detector beside one Go regexp per
# detector, `securecart scan` beside gitleaks (installed apart, never a
# dependency: go install github.com/zricethezav/gitleaks/v8@v8.30.1) and
# the peak memory of a scan of 1 GiB, in CPU-seconds (tools/scanbench).
# For a quick check at small sizes:
#   make bench-scan SECURECART_BENCH_SCAN_MIB=8 SCANBENCH_FLAGS='-mib 16 -baseline-mib 1 -reps 1 -gitleaks-mib 2 -rss-gib 0'
SCANBENCH_FLAGS ?=
bench-scan:
	$(call stamp,scan)
	SECURECART_BENCH_SCAN_MIB=$(SECURECART_BENCH_SCAN_MIB) go test -run '^$$' -count 3 -benchtime 2x -bench ScanThroughput ./internal/scan $(call out,scan)
	go run ./tools/scanbench $(SCANBENCH_FLAGS) $(call out,scan)
	$(report)

# Backups: shipping lag at 500 writes/s, restore of 1,000,000 customers on
# SQLite beside Litestream (a separate binary, never a dependency:
# go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.18), and
# snapshot MB/s beside a file copy of the same database.
bench-backup:
	$(call stamp,backup)
	go test -run '^$$' -count 3 -benchtime 1x -timeout 20m -bench ShipLag ./internal/backup $(call out,backup)
	SECURECART_BENCH_RESTORE_ROWS=1000000 go test -run '^$$' -count 3 -benchtime 1x -timeout 60m \
		-bench 'Restore|Snapshot' ./internal/backup $(call out,backup)
	$(report)

# The audit log: durable appends at 1, 16 and 256 writers beside raw
# fsynced appends of the same frames, verification beside SHA-256, and GET
# customer through the API with the trail beside a no-op sink.
bench-audit:
	$(call stamp,audit)
	go test -run '^$$' -count 5 -benchtime 2s -bench 'AuditAppend|AuditRawAppend' ./internal/audit $(call out,audit)
	go test -run '^$$' -count 5 -benchtime 3x -bench 'AuditVerify|AuditSHA256' ./internal/audit $(call out,audit)
	go test -run '^$$' -count 5 -benchtime 2s -bench 'GetCustomerAudit' ./internal/server $(call out,audit)
	$(report)
