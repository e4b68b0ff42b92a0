package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// SealGrace is how long after a month ends (China time) its seal is made,
// so that the entries a server with a slightly late clock commits still
// fall in it.
const SealGrace = time.Hour

// Sealer makes the monthly seals of the audit log and checks the log
// against them.
type Sealer struct {
	Store AuditStore
	// Key signs the seals (the server's audit key, shared by every server
	// of a PostgreSQL deployment).
	Key ed25519.PrivateKey
	Now func() time.Time
}

// SealFinished seals, in order, every month that ended at least SealGrace
// ago and is not sealed yet, from the month of the log's first entry, and
// returns the seals it made. Servers sealing at once are safe: a month's
// first seal stored wins and the others read it.
func (s *Sealer) SealFinished(ctx context.Context) ([]audit.Seal, error) {
	if s.Key == nil {
		return nil, errors.New("no audit key to seal with")
	}
	var made []audit.Seal
	for range 1200 { // a hundred years of months: never reached
		seals, err := s.Store.AuditSeals(ctx)
		if err != nil {
			return made, err
		}
		first, base, month := int64(1), audit.Genesis, ""
		if n := len(seals); n > 0 {
			last := seals[n-1]
			first, base, month = last.LastSeq+1, last.HeadHash, audit.NextMonth(last.Month)
		} else {
			es, err := s.Store.AuditEntries(ctx, 0, 1)
			if err != nil || len(es) == 0 {
				return made, err
			}
			month = audit.MonthOf(es[0].At)
		}
		end, err := audit.MonthEnd(month)
		if err != nil {
			return made, err
		}
		if s.Now().Before(end.Add(SealGrace)) {
			return made, nil
		}
		entries, err := s.Store.AuditEntriesBefore(ctx, first-1, end)
		if err != nil {
			return made, err
		}
		seal := audit.MakeSeal(month, first, base, entries)
		seal.Sign(s.Key, s.Now())
		err = s.Store.AddAuditSeal(ctx, seal)
		if ErrorCode(err) == syncproto.CodeConflict {
			continue // another server sealed it first
		}
		if err != nil {
			return made, err
		}
		made = append(made, *seal)
	}
	return made, nil
}

// MonthSeal returns the seal of month, sealing the finished months first.
// Errors: invalid_value (not YYYY-MM), not_ready (the month is not over,
// or ended less than SealGrace ago), not_found (the log began after it).
func (s *Sealer) MonthSeal(ctx context.Context, month string) (*audit.Seal, error) {
	end, err := audit.MonthEnd(month)
	if err != nil {
		return nil, Errorf(syncproto.CodeInvalidValue, "月份应为 YYYY-MM")
	}
	if s.Now().Before(end.Add(SealGrace)) {
		return nil, Errorf(syncproto.CodeNotReady, "%s 尚未结束，月末后一小时封存", month)
	}
	if _, err := s.SealFinished(ctx); err != nil {
		return nil, err
	}
	seals, err := s.Store.AuditSeals(ctx)
	if err != nil {
		return nil, err
	}
	for i := range seals {
		if seals[i].Month == month {
			return &seals[i], nil
		}
	}
	return nil, Errorf(syncproto.CodeNotFound, "%s 没有审计记录", month)
}

// SealEntries returns the entries a seal covers.
func SealEntries(ctx context.Context, st AuditStore, seal *audit.Seal) ([]audit.Entry, error) {
	n := seal.LastSeq - seal.FirstSeq + 1
	if n <= 0 {
		return nil, nil
	}
	return st.AuditEntries(ctx, seal.FirstSeq-1, int(n))
}

// AuditCheck is the outcome of VerifyAudit.
type AuditCheck struct {
	Entries  int64  // entries read
	Seals    int    // seals checked
	Head     string // the hash of the last entry
	Unsealed int64  // entries after the last seal
	// Problems lists what does not match, the chain's mismatches first
	// (an *audit.Mismatch names its entry), then the seals'; a finished
	// month with no seal is one. Empty when all match.
	Problems []error
	// Notes are what is not wrong in itself but worth a look: a seal
	// signed long after its month ended (a server down that long, or a
	// month sealed again by whoever holds the key after rewriting it).
	Notes []string

	first, last time.Time // the first and last entries' times
}

// LateSeal is how long after its month's end a seal may be signed before
// VerifyAudit notes it: servers seal an hour after the month ends.
const LateSeal = 7 * 24 * time.Hour

// VerifyAudit checks the whole audit log: the chain from its first entry
// (sequence numbers without gaps, each prev_hash the hash before, each
// hash its content's), then every seal: its signature (by one of trusted,
// if any is given), that the seals follow one another, and the entries
// each covers (audit.Seal.Check), which finds a rewrite that recomputed
// the hashes.
func VerifyAudit(ctx context.Context, st AuditStore, trusted ...ed25519.PublicKey) (*AuditCheck, error) {
	out := &AuditCheck{}
	chain := audit.NewChain(1, audit.Genesis)
	const page = 2000
	for after := int64(0); ; {
		es, err := st.AuditEntries(ctx, after, page)
		if err != nil {
			return nil, err
		}
		for i := range es {
			// Every mismatch: the chain follows each entry as stored, so
			// that an edit later in the log is not hidden by an earlier.
			if m := chain.Add(&es[i]); m != nil {
				out.Problems = append(out.Problems, m)
			}
			if i == 0 && after == 0 {
				out.first = es[0].At
			}
			out.last = es[i].At
		}
		out.Entries += int64(len(es))
		if len(es) < page {
			break
		}
		after = es[len(es)-1].Seq
	}
	out.Head = chain.Head()
	seals, err := st.AuditSeals(ctx)
	if err != nil {
		return nil, err
	}
	next, base := int64(1), audit.Genesis
	for i := range seals {
		seal := &seals[i]
		out.Seals++
		if err := seal.VerifySignature(trusted...); err != nil {
			out.Problems = append(out.Problems, err)
			continue
		}
		if seal.FirstSeq != next || seal.BaseHash != base {
			out.Problems = append(out.Problems, fmt.Errorf("seal %s: starts at entry %d after hash %s, the seal before ends at %d with %s",
				seal.Month, seal.FirstSeq, seal.BaseHash, next-1, base))
		}
		next, base = seal.LastSeq+1, seal.HeadHash
		entries, err := SealEntries(ctx, st, seal)
		if err != nil {
			return nil, err
		}
		if m := seal.Check(entries); m != nil {
			out.Problems = append(out.Problems, fmt.Errorf("seal %s: %w", seal.Month, m))
		}
		if end, err := audit.MonthEnd(seal.Month); err == nil && seal.SignedAt.After(end.Add(LateSeal)) {
			out.Notes = append(out.Notes, fmt.Sprintf("seal %s was signed %s, %d days after its month ended", seal.Month,
				seal.SignedAt.In(audit.ChinaTime).Format("2006-01-02 15:04"), int(seal.SignedAt.Sub(end)/(24*time.Hour))))
		}
	}
	out.Unsealed = max(0, chain.Next()-next)
	// Every month from the first entry's that ended SealGrace ago has a
	// seal (servers seal each, empty ones too, within the hour): one
	// missing though a server wrote entries well after its end was
	// deleted, with its month's entries free to be rewritten unseen; one
	// missing with no entry since may be a server not run since.
	if out.Entries > 0 {
		want := audit.MonthOf(out.first)
		if n := len(seals); n > 0 {
			want = audit.NextMonth(seals[n-1].Month)
		}
		var missing, unsealedYet []string
		for m := want; len(missing)+len(unsealedYet) < 1200; m = audit.NextMonth(m) {
			end, err := audit.MonthEnd(m)
			if err != nil || time.Now().Before(end.Add(SealGrace)) {
				break
			}
			if out.last.After(end.Add(SealGrace + sealedWithin)) {
				missing = append(missing, m)
			} else {
				unsealedYet = append(unsealedYet, m)
			}
		}
		if len(missing) > 0 {
			out.Problems = append(out.Problems, fmt.Errorf("no seal for %s, though entries were written after it ended: a server seals a finished month within the hour (deleted?)", strings.Join(missing, ", ")))
		}
		if len(unsealedYet) > 0 {
			out.Notes = append(out.Notes, fmt.Sprintf("%s not sealed yet: no entry was written after it ended (a server seals a finished month at start and hourly)", strings.Join(unsealedYet, ", ")))
		}
	}
	return out, nil
}

// sealedWithin is how soon after SealGrace a running server has sealed a
// finished month (it seals at start and every hour).
const sealedWithin = 2 * time.Hour
