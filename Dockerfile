# syntax=docker/dockerfile:1
# Build: docker build -t fieldsync .
# Run:   docker run -p 8080:8080 -v fieldsync-data:/data fieldsync serve --demo
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# mattn/go-sqlite3 needs cgo; the binary links glibc dynamically, so the
# runtime stage is the same Debian release.
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/fieldsync ./cmd/fieldsync

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data fieldsync \
    && mkdir -p /data /keys && chown fieldsync /data /keys
COPY --from=build /out/fieldsync /usr/local/bin/fieldsync
USER fieldsync
ENV FIELDSYNC_ADDR=0.0.0.0:8080 FIELDSYNC_DATA=/data FIELDSYNC_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# The server's own readiness (/readyz: its database and photo store
# answer), asked by the binary itself: the slim image's /bin/sh (dash)
# has no /dev/tcp, and no curl.
HEALTHCHECK --interval=30s --timeout=6s CMD ["fieldsync", "ready"]
ENTRYPOINT ["fieldsync"]
CMD ["serve"]
