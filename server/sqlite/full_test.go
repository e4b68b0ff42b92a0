package sqlite_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestFullStorageOverHTTP: with the database's storage full (its page
// limit reached and every page filled), a phone's push is refused 503
// unavailable with Retry-After, saying its data stays on the phone; a
// sign-in is refused the same way, saying only that the server cannot
// take it now (no data of the phone's was refused); the phone's pull still
// brings the records.
func TestFullStorageOverHTTP(t *testing.T) {
	srv := apptest.Start(t)
	ctx := context.Background()
	phone := srv.Login(apptest.Inspector)
	w := sqlite.Writer(srv.App.DB.(*sqlite.DB))
	var pages int
	if err := w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = w.ExecContext(ctx, "PRAGMA max_page_count = 1073741823") })
	// Every free byte of the pages taken, one small record at a time.
	for i := 0; ; i++ {
		err := srv.App.Syncer.Store.Update(ctx, func(tx server.WriteTx) error {
			return srv.App.Syncer.Upsert(ctx, tx, syncproto.EntityCounty, "8"+strconv.Itoa(100000+i), "", map[string]any{
				"code": "x", "name": "填充", "note": strings.Repeat("满", 20)})
		})
		if server.StorageFull(err) {
			break
		}
		if err != nil || i > 100000 {
			t.Fatalf("filling the database: %v after %d", err, i)
		}
	}

	// The tables' own pages fill too: a push at a time until refused.
	var ae *syncproto.APIError
	for i := 0; ; i++ {
		_, err := phone.Push(ctx, uuid.NewString(), []syncproto.Mutation{apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(),
			apptest.Fields("county", apptest.Xinfu, "plate", "晋H"+strconv.Itoa(10000+i), "emission_stage", "cn6", "aftertreatment", "present"))})
		if err == nil && i < 5000 {
			continue
		}
		if !errors.As(err, &ae) || ae.Body.Code != syncproto.CodeUnavailable || ae.RetryAfter <= 0 || !strings.Contains(ae.Body.Message, "数据仍在手机上") {
			t.Fatalf("a push with the storage full: %v, want 503 unavailable saying the data stays on the phone", err)
		}
		break
	}
	for i := 0; ; i++ {
		_, err := srv.NewClient().Login(ctx, apptest.Inspector2, apptest.Passwords[apptest.Inspector2], "新手机")
		if err == nil && i < 5000 {
			continue
		}
		if !errors.As(err, &ae) || ae.Body.Code != syncproto.CodeUnavailable || ae.RetryAfter <= 0 ||
			strings.Contains(ae.Body.Message, "手机上") || !strings.Contains(ae.Body.Message, "存储空间已满") {
			t.Fatalf("a sign-in with the storage full: %v, want 503 unavailable saying only that the storage is full", err)
		}
		break
	}
	page, err := phone.Pull(ctx, "", 50)
	if err != nil || len(page.Changes) == 0 {
		t.Fatalf("a pull with the storage full: %v", err)
	}
}
