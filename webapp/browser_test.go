package webapp_test

import (
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

func TestBrowserExplore(t *testing.T) {
	bctx := browserFor(t)
	srv := apptest.Start(t)
	p := newPhone(t, bctx, srv, "phone")
	p.shot("app-login.png")
	p.signIn(apptest.Inspector)
	p.shot("app-home.png")
	p.click(`#tabs a[data-tab="sites"]`)
	p.wait(`#site-list a.item`)
	p.shot("app-sites.png")
}
