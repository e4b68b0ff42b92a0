package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChinaTime is the zone months are counted in (UTC+8, no daylight saving),
// as the monthly report counts them.
var ChinaTime = time.FixedZone("CST", 8*60*60)

// MonthOf returns the month (YYYY-MM, China time) of t.
func MonthOf(t time.Time) string { return t.In(ChinaTime).Format("2006-01") }

// MonthEnd returns the instant a month (YYYY-MM) ends, China time.
func MonthEnd(month string) (time.Time, error) {
	start, err := time.ParseInLocation("2006-01", month, ChinaTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q: want YYYY-MM", month)
	}
	return start.AddDate(0, 1, 0), nil
}

// NextMonth returns the month after month (YYYY-MM).
func NextMonth(month string) string {
	end, err := MonthEnd(month)
	if err != nil {
		return ""
	}
	return MonthOf(end)
}

// Seal fixes one month of the chain: the entries from FirstSeq to LastSeq
// (those made after the previous seal up to the month's end), how many of
// each action they hold, the hash before the first (BaseHash, the previous
// seal's HeadHash) and the hash of the last (HeadHash), signed with the
// server's Ed25519 key. A month without entries has LastSeq = FirstSeq-1
// and HeadHash = BaseHash.
type Seal struct {
	Month     string         `json:"month"`
	FirstSeq  int64          `json:"first_seq"`
	LastSeq   int64          `json:"last_seq"`
	Counts    map[string]int `json:"counts"` // action → entries
	BaseHash  string         `json:"base_hash"`
	HeadHash  string         `json:"head_hash"`
	SignedAt  time.Time      `json:"signed_at"`
	KeyID     string         `json:"key_id"`
	PublicKey string         `json:"public_key"` // base64 (standard) of the Ed25519 public key
	Signature string         `json:"signature"`  // base64 (standard) of the Ed25519 signature
}

// MakeSeal returns the (unsigned) seal of month over entries, which start
// at first after the hash base. Counts has every action, zero included.
func MakeSeal(month string, first int64, base string, entries []Entry) *Seal {
	s := &Seal{Month: month, FirstSeq: first, LastSeq: first - 1, BaseHash: base, HeadHash: base, Counts: map[string]int{}}
	for _, a := range Actions {
		s.Counts[a] = 0
	}
	for i := range entries {
		s.Counts[entries[i].Action]++
		s.LastSeq, s.HeadHash = entries[i].Seq, entries[i].Hash
	}
	return s
}

// Message is what the signature covers: tag "fieldsync-audit-seal-v1",
// then month, first_seq, last_seq, the counts ("action=n" in action order,
// joined by ","), base_hash, head_hash, signed_at (Unix ms), key_id and
// public_key, each length-prefixed as entries are.
func (s *Seal) Message() []byte {
	keys := slices.Sorted(maps.Keys(s.Counts))
	counts := make([]string, len(keys))
	for i, k := range keys {
		counts[i] = k + "=" + strconv.Itoa(s.Counts[k])
	}
	return canonical("fieldsync-audit-seal-v1", s.Month, strconv.FormatInt(s.FirstSeq, 10), strconv.FormatInt(s.LastSeq, 10),
		strings.Join(counts, ","), s.BaseHash, s.HeadHash, strconv.FormatInt(s.SignedAt.UnixMilli(), 10), s.KeyID, s.PublicKey)
}

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Sign stamps the seal with at, the key's id and public key, and signs it.
func (s *Seal) Sign(key ed25519.PrivateKey, at time.Time) {
	pub := key.Public().(ed25519.PublicKey)
	s.SignedAt = at.UTC().Truncate(time.Millisecond)
	s.KeyID = KeyID(pub)
	s.PublicKey = base64.StdEncoding.EncodeToString(pub)
	s.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, s.Message()))
}

// VerifySignature checks the seal's signature. With trusted keys given
// (nil ones are none), the seal's public key must be one of them — more
// than one after a key replaced (fieldsync audit newkey): the months
// before were sealed with the old; otherwise the key the seal carries is
// used (which proves only that the seal was not altered since it was
// signed by whoever holds that key).
func (s *Seal) VerifySignature(trusted ...ed25519.PublicKey) error {
	pub, err := base64.StdEncoding.DecodeString(s.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("seal %s: public key is not an Ed25519 key", s.Month)
	}
	var ids []string
	signer := false
	for _, k := range trusted {
		if k != nil {
			ids = append(ids, KeyID(k))
			signer = signer || k.Equal(ed25519.PublicKey(pub))
		}
	}
	if len(ids) > 0 && !signer {
		return fmt.Errorf("seal %s: signed by key %s, not by the trusted key %s", s.Month, KeyID(pub), strings.Join(ids, " or "))
	}
	if s.KeyID != KeyID(pub) {
		return fmt.Errorf("seal %s: key id %s does not name its public key", s.Month, s.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || !ed25519.Verify(pub, s.Message(), sig) {
		return fmt.Errorf("seal %s: signature does not match its content", s.Month)
	}
	return nil
}

// Check checks entries against the seal: they are the chain from FirstSeq
// after BaseHash to LastSeq, their last hash is HeadHash, and they hold
// Counts of each action. It returns the first entry (or, Seq 0, the seal
// figure) that does not match. It does not check the signature.
func (s *Seal) Check(entries []Entry) *Mismatch {
	c := NewChain(s.FirstSeq, s.BaseHash)
	counts := map[string]int{}
	for i := range entries {
		e := &entries[i]
		if e.Seq > s.LastSeq {
			return &Mismatch{Seq: e.Seq, Reason: fmt.Sprintf("after the end of the seal of %s (last %d)", s.Month, s.LastSeq)}
		}
		if m := c.Add(e); m != nil {
			return m
		}
		counts[e.Action]++
	}
	if c.Next() != s.LastSeq+1 {
		return &Mismatch{Seq: c.Next(), Reason: fmt.Sprintf("missing (the seal of %s ends at %d)", s.Month, s.LastSeq)}
	}
	if c.Head() != s.HeadHash {
		return &Mismatch{Seq: s.LastSeq, Reason: fmt.Sprintf("hash %s is not the seal's head %s", short(c.Head()), short(s.HeadHash))}
	}
	for _, a := range slices.Sorted(maps.Keys(mergeKeys(counts, s.Counts))) {
		if counts[a] != s.Counts[a] {
			return &Mismatch{Reason: fmt.Sprintf("seal %s counts %d %s entries, the chain holds %d", s.Month, s.Counts[a], a, counts[a])}
		}
	}
	return nil
}

func mergeKeys(a, b map[string]int) map[string]int {
	out := maps.Clone(a)
	for k := range b {
		out[k] += 0
	}
	return out
}
