package app_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestPublishedChecklistKept: a build whose checklist differs from the
// version the server published (an item dropped, one made required)
// does not rewrite it — inspections were answered on it, and the console
// then showed honest answers as unknown items (catalogue probe) —, and
// says which; a new version is published beside it.
func TestPublishedChecklistKept(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(set.Templates, func(tp seeds.Template) bool { return tp.ID == "coal_boiler" })
	edited := set.Templates[i]
	published, err := srv.App.DB.Get(ctx, syncproto.EntityTemplate, "coal_boiler@1")
	if err != nil || published == nil {
		t.Fatalf("coal_boiler@1: %v %v", published, err)
	}
	edited.Items = slices.Clone(edited.Items[1:])
	edited.Items[0].Required = !edited.Items[0].Required
	next := edited
	next.Version = set.LatestTemplate("coal_boiler").Version + 1
	kept, err := server.LoadReference(ctx, srv.App.Syncer, &seeds.Set{Templates: []seeds.Template{edited, next}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"coal_boiler@1 (items)"}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	after, err := srv.App.DB.Get(ctx, syncproto.EntityTemplate, "coal_boiler@1")
	if err != nil {
		t.Fatal(err)
	}
	if string(after.Value("items")) != string(published.Value("items")) || after.Seq != published.Seq {
		t.Errorf("the published version was rewritten (seq %d → %d)", published.Seq, after.Seq)
	}
	v2, err := srv.App.DB.Get(ctx, syncproto.EntityTemplate, fmt.Sprintf("coal_boiler@%d", next.Version))
	if err != nil || v2 == nil || string(v2.Value("version")) != fmt.Sprint(next.Version) {
		t.Errorf("the new version was not published: %v %v", v2, err)
	}
	// Loading the build's own set again changes nothing and reports nothing.
	if kept, err := server.LoadReference(ctx, srv.App.Syncer, set); err != nil || len(kept) != 0 {
		t.Errorf("the build's own checklists: kept %v, %v", kept, err)
	}
}
