# SecureCart developer targets. `make test` is the README's test command.

PG_DSN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: build test test-postgres lint bench bench-backup bench-authz bench-http bench-scan bench-signin bench-analyzer bench-audit fuzz

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

# Figures for docs/benchmarks.md: 1,000,000 customers for the email lookup
# and 1,000,000 data keys for the rewrap, on SQLite and PostgreSQL, then the
# authorization engines and the HTTPS API.
bench:
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' go test -run '^$$' -count 5 -benchtime 2s \
		-bench 'EnvelopeSeal64|EnvelopeOpen64|FieldSeal64|FieldOpen64|RawGCM|CreateCustomer|GetCustomer|DurableCreates' \
		./internal/keys ./internal/store | tee bench.out
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' \
	SECURECART_BENCH_CUSTOMERS=1000000 SECURECART_BENCH_REWRAP_KEYS=1000000 \
	go test -run '^$$' -timeout 60m -bench 'LookupByEmail|Rewrap' -benchtime 3s \
		./internal/keys ./internal/store | tee -a bench.out
	$(MAKE) bench-authz bench-http bench-scan bench-signin bench-analyzer bench-backup bench-audit BENCH_OUT=bench.out
	go run ./tools/benchreport < bench.out > docs/benchmarks.md
	rm -f bench.out

# The authorization engines side by side (the bench/ module keeps OPA out of
# the program's dependencies) and the HTTPS API under wrk. Each appends to
# BENCH_OUT; `make bench` turns the whole into docs/benchmarks.md.
BENCH_OUT ?= bench.out

bench-authz:
	cd bench && go test -run '^$$' -count 5 -benchtime 2s -bench Authz . | tee -a $(CURDIR)/$(BENCH_OUT)

bench-http:
	go run ./tools/httpbench | tee -a $(BENCH_OUT)

# Sign-in at the shipped Argon2id cost, on one core.
bench-signin:
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' go test -run '^$$' -cpu 1 -count 5 -benchtime 20x \
		-bench 'SignIn|PasswordHash' ./internal/identity | tee -a $(BENCH_OUT)

# The access analyzer on the default set and on 1,000 generated policies.
bench-analyzer:
	go test -run '^$$' -count 5 -benchtime 3x -bench Analyze ./internal/policy/analyze | tee -a $(BENCH_OUT)

# The sensitive-data scanner: every detector beside one Go regexp per
# detector, `securecart scan` beside gitleaks (installed apart, never a
# dependency: go install github.com/zricethezav/gitleaks/v8@v8.30.1) and
# the peak memory of a scan of 1 GiB, in CPU-seconds (tools/scanbench).
bench-scan:
	go test -run '^$$' -count 3 -benchtime 2x -bench ScanThroughput ./internal/scan | tee -a $(BENCH_OUT)
	go run ./tools/scanbench | tee -a $(BENCH_OUT)

# Backups: shipping lag at 500 writes/s, restore of 1,000,000 customers on
# SQLite beside Litestream (a separate binary, never a dependency:
# go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.18), and
# snapshot MB/s beside a file copy of the same database.
bench-backup:
	go test -run '^$$' -count 3 -benchtime 1x -timeout 20m -bench ShipLag ./internal/backup | tee -a $(BENCH_OUT)
	SECURECART_BENCH_RESTORE_ROWS=1000000 go test -run '^$$' -count 3 -benchtime 1x -timeout 60m \
		-bench 'Restore|Snapshot' ./internal/backup | tee -a $(BENCH_OUT)

# The audit log: durable appends at 1, 16 and 256 writers beside raw
# fsynced appends of the same frames, and verification beside SHA-256.
bench-audit:
	go test -run '^$$' -count 5 -benchtime 2s -bench 'AuditAppend|AuditRawAppend' ./internal/audit | tee -a $(BENCH_OUT)
	go test -run '^$$' -count 5 -benchtime 3x -bench 'AuditVerify|AuditSHA256' ./internal/audit | tee -a $(BENCH_OUT)
