package server

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// A push's results are stored with its batch, so that a retry of the same
// batch answers exactly what the first delivery did (Syncer.Push).

// encodeResults stores a batch's results for replay, without what a
// replay takes from its (identical) request: the entity and id of each
// result are those of its mutation. A plain result is stored as its status
// alone, so the usual batch — every mutation "applied" — costs a few bytes
// per mutation rather than a full object.
func encodeResults(rs []syncproto.PushResult) ([]byte, error) {
	out := make([]any, len(rs))
	for i, r := range rs {
		if r.Code == "" && r.Message == "" && len(r.LostFields) == 0 {
			out[i] = r.Status
			continue
		}
		r.Entity, r.ID = "", ""
		out[i] = r
	}
	return json.Marshal(out)
}

// decodeResults reads what encodeResults stored, taking the entity and id
// of each result from the replayed request's mutations (the request hash
// matched, so they are the first delivery's). Results stored whole, with
// their entity and id, read back as they are.
func decodeResults(stored []byte, ms []syncproto.Mutation) ([]syncproto.PushResult, error) {
	rs, err := storedResults(stored)
	if err != nil {
		return nil, err
	}
	if len(rs) != len(ms) {
		return nil, fmt.Errorf("stored batch results: %d results for %d mutations", len(rs), len(ms))
	}
	for i := range rs {
		if r := &rs[i]; r.Entity == "" && r.ID == "" {
			r.Entity, r.ID = ms[i].Entity, ms[i].ID
		}
	}
	return rs, nil
}

// storedResults reads what encodeResults stored, without the entities
// and ids it left out.
func storedResults(stored []byte) ([]syncproto.PushResult, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(stored, &raw); err != nil {
		return nil, fmt.Errorf("stored batch results: %w", err)
	}
	rs := make([]syncproto.PushResult, len(raw))
	for i, b := range raw {
		r := &rs[i]
		var err error
		if len(b) > 0 && b[0] == '"' {
			err = json.Unmarshal(b, &r.Status)
		} else {
			err = json.Unmarshal(b, r)
		}
		if err != nil {
			return nil, fmt.Errorf("stored batch result %d: %w", i, err)
		}
	}
	return rs, nil
}

// Rejected counts the mutations of the stored push b that were rejected,
// and says their codes, each once, in the order first met: what waits on
// the phone, in its list of failed changes, for a person to act on.
func (b *Batch) Rejected() (n int, codes []string, err error) {
	rs, err := storedResults(b.Response)
	if err != nil {
		return 0, nil, err
	}
	for _, r := range rs {
		if r.Status == syncproto.StatusRejected {
			n++
			if !slices.Contains(codes, r.Code) {
				codes = append(codes, r.Code)
			}
		}
	}
	return n, codes, nil
}
