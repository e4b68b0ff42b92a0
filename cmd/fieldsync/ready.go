package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// readyCmd asks a running server on this machine whether it is ready
// (GET /readyz at --addr, a wildcard host asked on the loopback): exit 0
// when it answers 200, 1 with its answer or the error otherwise. It is the
// container's health check (Dockerfile), as the image has no shell tool
// that speaks HTTP.
func readyCmd(c *command) {
	c.uses = []string{"addr"}
	c.run = func(ctx context.Context) error {
		u := "http://" + loopbackOf(c.cfg.Addr) + "/readyz"
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s %s", u, resp.Status, strings.TrimSpace(string(body)))
		}
		fmt.Fprintln(c.stdout, "ready")
		return nil
	}
}

// loopbackOf is a listen address as a client on the same machine dials
// it: a wildcard or missing host (0.0.0.0:8080, [::]:8080, :8080) is the
// loopback.
func loopbackOf(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
