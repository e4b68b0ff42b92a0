package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file measures the client alone: the same sequential client, on the
// same workload, against a stand-in server on a loopback port that answers
// every request at once with a reply of the real one's shape and size. A
// server that took no time at all would be this fast, so these rates are
// the ceiling of fieldsync's over HTTP with this client, and the ceiling
// divided by the raw SQLite rate is the best ratio any server could reach.

// stub is the stand-in server. It signs anyone in, answers a push with
// "applied" for every mutation it names (the same JSON fieldsync answers,
// gzipped as fieldsync gzips it), and answers pulls with the pages a real
// server gave in the same round, in order, gzipped ahead of time.
type stub struct {
	srv    *http.Server
	URL    string
	county string
	pages  [][]byte // gzipped pull pages, replayed in order
	next   atomic.Int64
	bufs   sync.Pool // *bytes.Buffer
}

// startStub serves the stand-in on a free loopback port; pages are the
// uncompressed pull pages to replay.
func startStub(county string, pages []json.RawMessage) (*stub, error) {
	s := &stub{county: county, bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
	for _, p := range pages {
		z, err := gzipBytes(p)
		if err != nil {
			return nil, err
		}
		s.pages = append(s.pages, z)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+syncproto.PathLogin, s.login)
	mux.HandleFunc("POST "+syncproto.PathPush, s.push)
	mux.HandleFunc("GET "+syncproto.PathPull, s.pull)
	s.srv = &http.Server{Handler: mux}
	s.URL = "http://" + ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

func (s *stub) close() { s.srv.Close() }

func gzipBytes(b []byte) ([]byte, error) {
	var z bytes.Buffer
	w, err := gzip.NewWriterLevel(&z, gzip.BestSpeed) // fieldsync's level
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return z.Bytes(), nil
}

func (s *stub) login(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(syncproto.TokenResponse{AccessToken: "stub", TokenType: "Bearer", ExpiresIn: 3600, RefreshToken: "stub",
		RefreshExpiresIn: 3600, User: syncproto.User{ID: "stub", Username: "stub", Role: "inspector", Counties: []string{s.county}}})
}

// push answers a push without decoding it: it finds the batch id and each
// mutation's id in the body (a JSON string holds a quote only escaped, so
// `"id":"` is only ever a key) and writes fieldsync's answer for them, as
// vehicle checks: the only entity fieldbench pushes.
func (s *stub) push(w http.ResponseWriter, r *http.Request) {
	in := s.bufs.Get().(*bytes.Buffer)
	out := s.bufs.Get().(*bytes.Buffer)
	defer s.bufs.Put(in)
	defer s.bufs.Put(out)
	in.Reset()
	out.Reset()
	if _, err := in.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body := in.Bytes()
	batch, _ := stringAfter(body, `"batch_id":"`)
	out.WriteString(`{"batch_id":"` + batch + `","results":[`)
	for n := 0; ; n++ {
		id, rest := stringAfter(body, `"id":"`)
		if rest == nil {
			break
		}
		if n > 0 {
			out.WriteByte(',')
		}
		out.WriteString(`{"entity":"` + syncproto.EntityVehicleCheck + `","id":"` + id + `","status":"applied"}`)
		body = rest
	}
	out.WriteString(`],"server_hlc":"","replayed":false}`)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Encoding", "gzip")
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	zw.Write(out.Bytes())
	zw.Close()
}

// stringAfter returns the JSON string (unescaped content assumed plain)
// that follows key in b, and the rest of b after it; rest is nil if key is
// not there.
func stringAfter(b []byte, key string) (string, []byte) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return "", nil
	}
	b = b[i+len(key):]
	j := bytes.IndexByte(b, '"')
	if j < 0 {
		return "", nil
	}
	return string(b[:j]), b[j+1:]
}

func (s *stub) pull(w http.ResponseWriter, r *http.Request) {
	i := int(s.next.Add(1) - 1)
	if i >= len(s.pages) {
		http.Error(w, "no more recorded pages", http.StatusGone)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Encoding", "gzip")
	w.Write(s.pages[i])
}

// runFloor runs the client as runHTTP does against a stub replaying pages,
// and returns its rates: the client's alone.
func runFloor(ctx context.Context, county string, pages []json.RawMessage, recs []record, o httpOptions) (*httpResult, error) {
	if len(pages) == 0 {
		return nil, errors.New("no pull pages to replay")
	}
	s, err := startStub(county, pages)
	if err != nil {
		return nil, err
	}
	defer s.close()
	o.serverCPU, o.linkBytesS = nil, 0
	h, err := runHTTP(ctx, s.URL, recs, o)
	if err != nil {
		return nil, fmt.Errorf("against the stand-in server: %w", err)
	}
	return h, nil
}
