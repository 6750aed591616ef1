# SecureCart developer targets. `make test` is the README's test command.

PG_DSN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: build test test-postgres lint bench fuzz

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
# and 1,000,000 data keys for the rewrap, on SQLite and PostgreSQL.
bench:
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' go test -run '^$$' -count 5 -benchtime 2s \
		-bench 'EnvelopeSeal64|EnvelopeOpen64|FieldSeal64|FieldOpen64|RawGCM|CreateCustomer|GetCustomer|DurableCreates' \
		./internal/keys ./internal/store | tee bench.out
	SECURECART_TEST_POSTGRES_DSN='$(PG_DSN)' \
	SECURECART_BENCH_CUSTOMERS=1000000 SECURECART_BENCH_REWRAP_KEYS=1000000 \
	go test -run '^$$' -timeout 60m -bench 'LookupByEmail|Rewrap' -benchtime 3s \
		./internal/keys ./internal/store | tee -a bench.out
	go run ./tools/benchreport < bench.out > docs/benchmarks.md
	rm -f bench.out
