package console

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// siteKindName is a site kind's Chinese name.
func siteKindName(kind string) string { return syncproto.Label(syncproto.SiteKinds, kind) }

// searchLimit caps each kind of hit on the results page.
const searchLimit = 50

type searchRow struct {
	Link, Title, Text, Status, County, At, Inspector, ID string
}

type searchGroup struct {
	Kind, Name string
	Rows       []searchRow
	Full       bool // the kind reached searchLimit: there may be more
}

// search finds inspections, findings, roadside checks and sites in the
// viewer's counties by plate, site name, inspector, record id or text.
func (c *Console) search(ec echo.Context) error {
	p := principalOf(ec)
	text, err := typedParam(ec, "q")
	if err != nil {
		return err
	}
	data := map[string]any{"Query": ec.QueryParam("q")}
	if text == "" {
		return c.render(ec, http.StatusOK, "search.html", data)
	}
	hits, err := c.d.Store.Search(ec.Request().Context(), server.SearchQuery{Scope: p.Scope(), Text: text, Limit: searchLimit})
	if err != nil {
		return err
	}
	groups := []*searchGroup{{Kind: server.HitInspection, Name: "现场检查"}, {Kind: server.HitFinding, Name: "发现问题"},
		{Kind: server.HitVehicleCheck, Name: "路检路查"}, {Kind: server.HitSite, Name: "点位"}}
	byKind := map[string]*searchGroup{}
	for _, g := range groups {
		byKind[g.Kind] = g
	}
	action, _ := server.EntityByName(syncproto.EntityVehicleCheck).Field("action")
	n := 0
	for _, h := range hits {
		if !p.CanSee(h.County) { // the store scopes; this is a second lock
			continue
		}
		r := searchRow{Title: h.Title, Text: server.Abridge(h.Text, 80), County: c.countyName(h.County), At: localTime(h.At), Inspector: h.Inspector, ID: h.ID}
		if h.Received {
			r.At += "（未填开始时间，按收到时间）" // as the queue says it
		}
		switch h.Kind {
		case server.HitInspection:
			r.Link, r.Status = "/console/inspections/"+url.PathEscape(h.ID), statusNames[h.Status]
		case server.HitFinding:
			r.Link, r.Status = "/console/inspections/"+url.PathEscape(h.InspectionID), findingStatusNames[h.Status]
		case server.HitVehicleCheck:
			r.Link = "/console/vehicles/" + url.PathEscape(h.ID)
			r.Status = action.Label(h.Status)
			if h.Voided {
				r.Status = "已作废（原为" + cmp.Or(r.Status, "未填处理") + "）" // counted nowhere, as its page says
			}
		case server.HitSite:
			r.Link, r.Status = "/console/sites?"+url.Values{"q": {h.ID}}.Encode(), siteKindName(h.Status)
		}
		g := byKind[h.Kind]
		if g == nil {
			continue
		}
		g.Rows = append(g.Rows, r)
		g.Full = len(g.Rows) >= searchLimit
		n++
	}
	// A group cut at searchLimit makes the total a least count.
	data["More"] = slices.ContainsFunc(groups, func(g *searchGroup) bool { return g.Full })
	data["Groups"], data["N"], data["Searched"], data["Scoped"] = groups, n, text, !p.Scope().All
	return c.render(ec, http.StatusOK, "search.html", data)
}
