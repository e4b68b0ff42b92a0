package console

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/photos"
)

// A photo's reuse flags and notes name another county's photo by its
// county alone (see server.FindReuses). The detail page looks the other
// photos up again, city-wide, when it is rendered, and links those the
// viewer may open: a county office sees "其他区县" where a city office sees
// the link.

// flagRow is an evidence flag explained, with links to the photos it
// refers to that the viewer may open.
type flagRow struct {
	Text  string
	Links []linkRow
}

// noteRow is an informational note (not a flag): 被复用于, then a link to
// the photo if the viewer may open it, else Where (its county), then
// Suffix.
type noteRow struct {
	Text, Where, Suffix string
	Link                *linkRow
}

type linkRow struct{ Text, URL string }

// reuseView renders a page's reuse links for one viewer.
type reuseView struct {
	c      *Console
	ctx    context.Context
	viewer *server.Principal
	items  map[string]string // the checklist's items, key → label, for the flags that name them
}

// rows returns ph's explained flags, with links to the earlier photos its
// reuse flags refer to, and its notes: the later photos that reuse it.
func (v *reuseView) rows(ph *server.StoredRecord) ([]flagRow, []noteRow, error) {
	names, texts := explain(ph.Value("flags"), v.items)
	flags := make([]flagRow, len(names))
	reused := false
	for i, name := range names {
		flags[i].Text = texts[i]
		reused = reused || name == server.ReuseDuplicate || name == server.ReuseNearDuplicate
	}
	var notes struct {
		ReusedBy json.RawMessage `json:"reused_by"`
	}
	_ = json.Unmarshal(ph.Value("notes"), &notes)
	if !reused && notes.ReusedBy == nil {
		return flags, nil, nil
	}
	reuses, err := v.find(ph)
	if err != nil {
		return nil, nil, err
	}
	var earlier []server.PhotoReuse // the photos the duplicate flag refers to
	var out []noteRow
	for _, r := range reuses {
		switch {
		case r.Earlier && r.Kind == server.ReuseDuplicate:
			earlier = append(earlier, r)
		case !r.Earlier && r.Kind == server.ReuseOtherItem:
			// The same inspection: this page, no link to it.
			item := itemLabel(v.items, r.Other.Text("item_key"))
			out = append(out, noteRow{Text: "被本次检查的另一检查项复用", Where: "（" + item + "）"})
		case !r.Earlier:
			n := noteRow{Text: "被复用于", Where: "其他区县（" + v.c.countyName(r.Other.County) + "）"}
			if n.Link, err = v.link(r); err != nil {
				return nil, nil, err
			}
			if r.Kind == server.ReuseNearDuplicate {
				n.Suffix = "（近似照片）"
			}
			out = append(out, n)
		}
	}
	if near := server.ClosestEarlier(reuses); near != nil {
		earlier = append(earlier, *near)
	}
	for _, r := range earlier {
		l, err := v.link(r)
		if err != nil {
			return nil, nil, err
		}
		if i := slices.Index(names, r.Kind); i >= 0 && l != nil {
			flags[i].Links = append(flags[i].Links, *l)
		}
	}
	return flags, out, nil
}

func (v *reuseView) find(ph *server.StoredRecord) ([]server.PhotoReuse, error) {
	s, err := server.SubjectOf(v.ctx, v.c.d.Store, ph)
	if err != nil {
		return nil, err
	}
	near, err := photos.NearMatches(v.ctx, v.c.d.Store, ph)
	if err != nil {
		return nil, err
	}
	return server.FindReuses(v.ctx, v.c.d.Store, s, near)
}

// link returns a link to the other photo of r, in its inspection's page,
// if the viewer may open it (the photo on the page they may, or they would
// not see it); else nil.
func (v *reuseView) link(r server.PhotoReuse) (*linkRow, error) {
	if !v.viewer.CanSee(r.Other.County) {
		return nil, nil
	}
	insp, err := server.PhotoInspection(v.ctx, v.c.d.Store, r.Other)
	if err != nil {
		return nil, err
	}
	text := v.c.countyName(r.Other.County)
	if r.Site != "" {
		text += "·" + v.c.siteNameIn(v.ctx, r.Site)
	}
	if insp == "" {
		return &linkRow{Text: text + "的路检照片", URL: "/console/photos/" + url.PathEscape(r.Other.ID) + "/preview"}, nil
	}
	return &linkRow{Text: text + "的检查", URL: "/console/inspections/" + url.PathEscape(insp) + "#photo-" + r.Other.ID}, nil
}
