# ComputeWPS. `make run` serves on 127.0.0.1:8000 with the embedded defaults;
# `make test` installs what the tests need and runs them all.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
DATA_PATH ?= $(CURDIR)/data
FUZZTIME ?= 10s

.PHONY: all build run test vet fuzz fuzz-parsers bench setup setup-test clean

all: build

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

build: setup
	go build -ldflags "$(LDFLAGS)" -o bin/compute-wps ./cmd/compute-wps
	go build -ldflags "$(LDFLAGS)" -o bin/cwt ./cmd/cwt

# Serves the sample data with authentication off, an SQLite job store and
# in-process workers under $(DATA_PATH).
run: build
	bin/compute-wps sample $(DATA_PATH)/sample
	AUTH_ENABLED=false DATA_PATH=$(DATA_PATH) WPS_DATA_ROOTS=$${WPS_DATA_ROOTS:-$(DATA_PATH)/sample} \
	WPS_LOG_FORMAT=$${WPS_LOG_FORMAT:-text} bin/compute-wps serve

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...

test: setup-test vet
	go test -race -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory fuzz-parsers

# The parsers of untrusted input, each fuzzed for FUZZTIME (10 s) in CI;
# their seed corpora are under testdata/fuzz.
fuzz-parsers:
	go test -run '^$$' -fuzz '^FuzzParseKVP$$' -fuzztime $(FUZZTIME) ./internal/wps
	go test -run '^$$' -fuzz '^FuzzParseXML$$' -fuzztime $(FUZZTIME) ./internal/wps
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/workflow

# A short run of every fuzz target; FUZZTIME=1m make fuzz for longer.
fuzz: setup-test
	@for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The performance table (README, Performance): ours against CDO and NCO on
# one synthetic 1 GB file, made once under $(BENCH_DIR), then the package
# benchmarks. BENCH_FLAGS passes options to benchtable (-cases, -runs).
BENCH_DIR ?= $(or $(TMPDIR),/tmp)/computewps-bench
bench: setup
	@scripts/setup-bench.sh
	go build -o bin/benchtable ./cmd/benchtable
	bin/benchtable -dir $(BENCH_DIR) $(BENCH_FLAGS)
	go test -run '^$$' -bench . -benchtime 3x ./internal/...

clean:
	rm -rf bin
