package server

// QueueSort orders the review queue: Key is one of QueueSortKeys ("" is
// the visit's start time), Desc reverses it. Rows that tie keep the
// default order (newest visit first, then id), so the order is stable
// from page to page.
type QueueSort struct {
	Key  string
	Desc bool
}

// QueueSortKeys are the columns the review queue sorts on: the visit's
// start time, when the server last received a change of the inspection
// (its updated_at: a resubmission, say), county, site
// name, checklist, inspector's name, status, and the counts of failed
// items, photos, evidence flags and missing items.
var QueueSortKeys = []string{"started", "received", "county", "site", "template", "inspector", "status", "failed", "photos", "flags", "missing"}

// QueueEntry is one inspection of the review queue with what a reviewer
// judges it by.
type QueueEntry struct {
	Record *StoredRecord
	// Inspector is the display name of the user who created the
	// inspection ("" when unknown).
	Inspector string
	// Failed counts the answers that fail their item (a check answered
	// fail, a yes/no answered no); Photos the live photos of the
	// inspection and of its findings; Flags those of them that carry an
	// evidence flag (a photo with two flags counts once, as the
	// inspection's page counts them).
	Failed, Photos, Flags int
	// Missing counts the items missing_items lists (缺项), -1 while the
	// server has not checked the inspection.
	Missing int
	// Unchecked counts the photos whose flags are not known yet: not
	// uploaded, or still being checked (no processed_at).
	Unchecked int
}

// Clean reports whether the entry may be approved in bulk: checked and
// complete, no answer its checklist lacks, every photo checked and no
// evidence flag — what bulk approval asks of it.
func (e *QueueEntry) Clean() bool {
	return e.Missing == 0 && e.Flags == 0 && e.Unchecked == 0 && (e.Record == nil || !HasUnknownAnswers(e.Record))
}

// HasUnknownAnswers reports whether an inspection answers items its
// checklist does not have (unknown_answers, from the completeness check).
func HasUnknownAnswers(insp *StoredRecord) bool {
	raw := insp.Value("unknown_answers")
	return len(raw) > 0 && string(raw) != "null" && string(raw) != "[]"
}
