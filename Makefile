# fieldsync — common tasks. README's two commands are `make run` and `make test`.
GO ?= go

.PHONY: run test lint bench build fuzz

run:            ## the server with an embedded SQLite database and demo data
	$(GO) run ./cmd/fieldsync serve --demo --data ./data

test:           ## every test, with the race detector
	$(GO) test -race -count=1 ./...

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench:         ## go benchmarks, then raw SQLite and fieldsync over HTTP side by side (issue 14)
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/fieldbench -n 100000 -rounds 3

build:
	CGO_ENABLED=1 $(GO) build -o fieldsync ./cmd/fieldsync

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseHLC -fuzztime 30s ./syncproto
	$(GO) test -run '^$$' -fuzz FuzzDecodeCursor -fuzztime 30s ./server
	$(GO) test -run '^$$' -fuzz FuzzDecodeAnswer -fuzztime 30s ./syncproto
