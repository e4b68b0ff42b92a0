package device

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Finding is a finding as the device holds it.
type Finding struct {
	ID, InspectionID, ItemKey, Description, Severity, Deadline string
	Status                                                     string // open, rectifying, rectified, verified
	RectificationNote                                          string
	// VerifyComment is the office's comment on a rectification it sent
	// back (status rectifying again).
	VerifyComment string
}

// Findings lists the device's live findings: those still to rectify
// first (the earliest deadline first), then those reported rectified, then
// those verified.
func (d *Device) Findings(ctx context.Context) ([]Finding, error) {
	recs, err := d.records(ctx, syncproto.EntityFinding)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(recs))
	for _, r := range recs {
		out = append(out, Finding{ID: r.ID, InspectionID: r.Str("inspection_id"), ItemKey: r.Str("item_key"),
			Description: r.Str("description"), Severity: r.Str("severity"), Deadline: r.Str("deadline"), Status: r.Str("status"),
			RectificationNote: r.Str("rectification_note"), VerifyComment: r.Str("verify_comment")})
	}
	rank := map[string]int{"open": 0, "rectifying": 0, "rectified": 1, "verified": 2}
	slices.SortStableFunc(out, func(a, b Finding) int {
		// A deadline before none ("~" sorts after every date).
		return cmp.Or(cmp.Compare(rank[a.Status], rank[b.Status]),
			cmp.Compare(cmp.Or(a.Deadline, "~"), cmp.Or(b.Deadline, "~")), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Rectification is an inspector's report on a finding's rectification.
type Rectification struct {
	FindingID string
	Status    string // rectifying (整改中) or rectified (已整改)
	Note      string // 整改说明, optional
	Photo     string // path of a photo of the rectification, optional
}

// Rectify reports a finding's rectification — its status and note, and a
// photo of it (a photo record with finding_id) — as the field app does
// (sync.md 9: the only writes a finding takes once its inspection is
// approved). It is refused at once where the server would refuse it: a
// finding verified by the office, or under an inspection submitted and
// not reviewed yet. It returns the id of the photo made ("" if none).
func (d *Device) Rectify(ctx context.Context, r Rectification) (photoID string, err error) {
	if r.Status != "rectifying" && r.Status != "rectified" {
		return "", fmt.Errorf("整改状态应为 rectifying（整改中）或 rectified（已整改），不能是 %q", r.Status)
	}
	var data []byte
	if r.Photo != "" {
		if data, err = os.ReadFile(r.Photo); err != nil {
			return "", fmt.Errorf("读取照片: %w", err)
		}
		if r.Photo, err = filepath.Abs(r.Photo); err != nil {
			return "", err
		}
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		f, err := getRecord(ctx, tx, syncproto.EntityFinding, r.FindingID)
		if err != nil {
			return err
		}
		if f.Deleted {
			return fmt.Errorf("问题 %s 已删除", r.FindingID)
		}
		if f.Str("status") == "verified" {
			return errors.New("该问题的整改已由督查室核实，不能再修改")
		}
		insp, err := getRecord(ctx, tx, syncproto.EntityInspection, f.Str("inspection_id"))
		if err != nil {
			return err
		}
		if insp.Deleted {
			return fmt.Errorf("问题所属的检查记录 %s 已删除", insp.ID)
		}
		if insp.Str("status") == "submitted" {
			return &LockedError{Status: "submitted"}
		}
		fields := map[string]any{"status": r.Status}
		if r.Note != "" {
			fields["rectification_note"] = r.Note
		}
		if err := d.change(ctx, tx, syncproto.EntityFinding, f.ID, f.County, fields); err != nil {
			return err
		}
		if data != nil {
			photoID, err = d.addPhoto(ctx, tx, f.County, map[string]any{"finding_id": f.ID}, r.Photo, data)
		}
		return err
	})
	return photoID, err
}
