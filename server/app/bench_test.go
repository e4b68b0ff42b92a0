package app_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// countingReader counts the bytes that cross the wire.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkPullSlice measures a new device's first sync of a county slice
// of 100,000 records (10,000 sites, 90,000 roadside checks) over HTTP with
// gzip: records per second, bytes on the wire, and the process's peak
// resident memory (server and client share the process).
func BenchmarkPullSlice(b *testing.B) {
	const sites, checks = 10_000, 90_000
	benchPullSlice(b, sites+checks, func(phone *syncproto.Client, n int) syncproto.Mutation {
		if n < sites {
			return benchSite(phone, n)
		}
		return syncproto.Mutation{Entity: "vehicle_check", ID: uuid.NewString(), HLC: phone.Clock.Now().String(), Fields: apptest.Fields(
			"county", apptest.Xinfu, "checkpoint", "豆罗检查站", "plate", fmt.Sprintf("晋H%05d", n%100000), "emission_stage", "国六",
			"fuel", "天然气", "aftertreatment", "present", "checked_at", "2026-11-28T10:00:00+08:00", "action", "放行")}
	})
}

// BenchmarkPullSliceMixed is the first sync of a county of 10,000 sites
// and 100,000 other records of the kinds a county accumulates: 40,000
// inspections with ten answers and a summary each, 30,000 findings and
// 30,000 roadside checks.
func BenchmarkPullSliceMixed(b *testing.B) {
	const sites, inspections, findings, checks = 10_000, 40_000, 30_000, 30_000
	siteIDs := make([]string, sites)
	inspIDs := make([]string, inspections)
	benchPullSlice(b, sites+inspections+findings+checks, func(phone *syncproto.Client, n int) syncproto.Mutation {
		hlc := phone.Clock.Now().String()
		switch {
		case n < sites:
			m := benchSite(phone, n)
			siteIDs[n] = m.ID
			return m
		case n < sites+inspections:
			i := n - sites
			inspIDs[i] = uuid.NewString()
			f := apptest.Fields("site_id", siteIDs[i%sites], "template_id", "construction_dust", "template_version", 1, "status", "draft",
				"started_at", "2026-11-28T09:30:00+08:00", "summary", fmt.Sprintf("第%d次检查：围挡完好，东侧土方未苫盖，已要求整改。", i))
			for k := range 10 {
				f[fmt.Sprintf("answers.item_%02d", k)] = json.RawMessage(`"pass"`)
			}
			return syncproto.Mutation{Entity: "inspection", ID: inspIDs[i], HLC: hlc, Fields: f}
		case n < sites+inspections+findings:
			i := n - sites - inspections
			return syncproto.Mutation{Entity: "finding", ID: uuid.NewString(), HLC: hlc, Fields: apptest.Fields(
				"inspection_id", inspIDs[i%inspections], "item_key", "material_cover", "description", "东侧土方未苫盖",
				"severity", "major", "deadline", "2026-12-31", "status", "open")}
		default:
			return syncproto.Mutation{Entity: "vehicle_check", ID: uuid.NewString(), HLC: hlc, Fields: apptest.Fields(
				"county", apptest.Xinfu, "checkpoint", "豆罗检查站", "plate", fmt.Sprintf("晋H%05d", n%100000), "emission_stage", "国六",
				"fuel", "柴油", "aftertreatment", "present", "checked_at", "2026-11-28T10:00:00+08:00", "action", "放行")}
		}
	})
}

func benchSite(phone *syncproto.Client, n int) syncproto.Mutation {
	return syncproto.Mutation{Entity: "site", ID: uuid.NewString(), HLC: phone.Clock.Now().String(), Fields: apptest.Fields(
		"county", apptest.Xinfu, "kind", "construction_site", "name", fmt.Sprintf("忻府区第%d号工地", n), "address", "忻府区长征街",
		"lon", 112.7+float64(n%1000)/10000, "lat", 38.4+float64(n%997)/10000, "radius_m", 200)}
}

// benchPullSlice stores total records made by gen (in order, in batches
// of 1,000, so a record may reference earlier ones) in 忻府区, then times
// a new device's first sync of the county.
func benchPullSlice(b *testing.B, total int, gen func(phone *syncproto.Client, n int) syncproto.Mutation) {
	srv := apptest.Start(b)
	phone := srv.Login(apptest.Inspector)
	p := &server.Principal{UserID: "bench", Role: server.RoleInspector, Counties: []string{apptest.Xinfu}, DeviceID: phone.DeviceID}
	for done := 0; done < total; done += 1000 {
		ms := make([]syncproto.Mutation, min(1000, total-done))
		for i := range ms {
			ms[i] = gen(phone, done+i)
		}
		resp, err := srv.App.Syncer.Push(ctx, p, &syncproto.PushRequest{DeviceID: phone.DeviceID, BatchID: uuid.NewString(), Mutations: ms})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range resp.Results {
			if r.Status != syncproto.StatusApplied {
				b.Fatalf("setup mutation %s %s: %s %s", r.Entity, r.ID, r.Code, r.Message)
			}
		}
	}
	access, _ := phone.Tokens()
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	// Both forms of a change's HLCs: per field, and grouped by HLC (what
	// sync.md tells phones to ask for).
	for _, form := range []string{"fields", "grouped"} {
		b.Run(form, func(b *testing.B) { pullSlice(b, srv, hc, access, form, total) })
	}
}

// pullSlice pulls the whole slice b.N times in pages of 2,000 and reports
// the rate, the bytes and the peak memory.
func pullSlice(b *testing.B, srv *apptest.Server, hc *http.Client, access, form string, total int) {
	var wire, raw int64
	var records int
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		wire, raw, records = 0, 0, 0
		cursor := ""
		for {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+syncproto.PathPull+"?limit=2000&hlcs="+form+"&cursor="+url.QueryEscape(cursor), nil)
			req.Header.Set("Authorization", "Bearer "+access)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			cr := &countingReader{r: resp.Body}
			zr, err := gzip.NewReader(cr)
			if err != nil {
				b.Fatalf("pull response not gzip: %v", err)
			}
			body := &countingReader{r: zr}
			var page syncproto.PullResponse
			if err := json.NewDecoder(body).Decode(&page); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			wire += cr.n
			raw += body.n
			records += len(page.Changes)
			cursor = page.Cursor
			if !page.HasMore {
				break
			}
		}
		if records < total {
			b.Fatalf("pulled %d records, want at least %d", records, total)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/sync")
	b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(wire)/1e6, "MB-gzip/sync")
	b.ReportMetric(float64(raw)/1e6, "MB-json/sync")
	b.ReportMetric(float64(apptest.PeakRSS())/1e6, "MB-peak-rss")
}
