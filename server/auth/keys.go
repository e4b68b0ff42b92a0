package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// LegacyKeyID is the id of the key imported from the data directory's
// jwt.key, which signed tokens before keys lived in the store.
const LegacyKeyID = "legacy"

// keyTTL is how long the keys read from the store are used before they are
// read again (so a rotation or a removal made elsewhere takes effect
// within it); keyRetry is how often at most tokens naming an unknown kid
// make them be read again (so a key another server just added is found,
// and forged kids cannot make every request query the store): such a
// token waits for it (verifying).
const (
	keyTTL   = 5 * time.Second
	keyRetry = time.Second
)

// SigningSwitch bounds how long after a rotation a server may still sign
// with the key before (keyTTL, and a margin for clocks): every server
// signs with the new key after it. RetireSigningKeys keeps the key before
// until then at least.
const SigningSwitch = keyTTL + 5*time.Second

// keyring caches the store's signing keys. Its times are the process's
// monotonic clock, not the service's Now (which tests move).
type keyring struct {
	store server.KeyStore

	mu     sync.Mutex
	keys   []server.SigningKey // newest first
	loaded time.Time           // when keys were read; zero: never
}

// reload reads the keys from the store (r.mu held).
func (r *keyring) reload(ctx context.Context) error {
	keys, err := r.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("read signing keys: %w", err)
	}
	r.keys, r.loaded = keys, time.Now()
	return nil
}

// fresh reloads the keys if they are older than keyTTL (r.mu held).
func (r *keyring) fresh(ctx context.Context) error {
	if r.loaded.IsZero() || time.Since(r.loaded) > keyTTL {
		return r.reload(ctx)
	}
	return nil
}

// signing returns the newest key.
func (r *keyring) signing(ctx context.Context) (server.SigningKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fresh(ctx); err != nil {
		return server.SigningKey{}, err
	}
	if len(r.keys) == 0 {
		return server.SigningKey{}, errors.New("no token signing key in the store (EnsureSigningKey makes the first)")
	}
	return r.keys[0], nil
}

// verifying returns the secrets a token naming kid may be signed with: the
// key kid, or every key for a token without a kid (issued before keys had
// ids, so signed with the imported legacy key). An unknown kid is looked
// for in keys read after the token arrived (another server may have just
// added it): read again at once, or, if they were read less than keyRetry
// ago, when keyRetry has passed (so forged kids make the store be read at
// most once per keyRetry, and a new key is never missed for having been
// read just before). ok is false if it is still unknown.
func (r *keyring) verifying(ctx context.Context, kid string) (secrets [][]byte, ok bool, err error) {
	arrived := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fresh(ctx); err != nil {
		return nil, false, err
	}
	find := func() [][]byte {
		var out [][]byte
		for _, k := range r.keys {
			if kid == "" || k.ID == kid {
				out = append(out, k.Secret)
			}
		}
		return out
	}
	for {
		if secrets = find(); len(secrets) > 0 || kid == "" || !r.loaded.Before(arrived) {
			return secrets, len(secrets) > 0, nil
		}
		if wait := keyRetry - time.Since(r.loaded); wait > 0 {
			r.mu.Unlock()
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
			r.mu.Lock()
			if ctx.Err() != nil {
				return nil, false, ctx.Err()
			}
			continue // another request may have read them meanwhile
		}
		if err := r.reload(ctx); err != nil {
			return nil, false, err
		}
	}
}

// expire makes the next use read the keys again.
func (r *keyring) expire() {
	r.mu.Lock()
	r.loaded = time.Time{}
	r.mu.Unlock()
}

// NewSigningKey returns a random 32-byte key with a random id, created at
// now.
func NewSigningKey(now time.Time) server.SigningKey {
	id := make([]byte, 8)
	secret := make([]byte, 32)
	_, _ = rand.Read(id)
	_, _ = rand.Read(secret)
	return server.SigningKey{ID: "k" + hex.EncodeToString(id), Secret: secret, CreatedAt: now}
}

// EnsureSigningKey gives a store without a signing key its first one: the
// key in legacyFile (the data directory's jwt.key of a server from before
// keys lived in the store, so that the tokens it issued keep working) if
// that file exists, or a random one. It returns the key it added, or
// nothing if the store had a key.
//
// Two servers starting at once on an empty store may both add a key; that
// is harmless (the newer signs, both verify, and the older goes at the next
// RemoveSigningKeys), and the legacy key, having a fixed id, is added once.
func EnsureSigningKey(ctx context.Context, st server.KeyStore, legacyFile string, now time.Time) (*server.SigningKey, error) {
	keys, err := st.SigningKeys(ctx)
	if err != nil || len(keys) > 0 {
		return nil, err
	}
	k := NewSigningKey(now)
	if legacyFile != "" {
		b, err := os.ReadFile(legacyFile)
		switch {
		case err == nil && len(b) >= 32:
			k.ID, k.Secret = LegacyKeyID, b
		case err == nil:
			return nil, fmt.Errorf("token key %s: %d bytes, want at least 32", legacyFile, len(b))
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("read token key: %w", err)
		}
	}
	err = st.AddSigningKey(ctx, k)
	if k.ID == LegacyKeyID && server.ErrorCode(err) == syncproto.CodeConflict {
		return nil, nil // another server imported it first
	}
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// RotateSigningKey adds a new random key, which signs the tokens issued
// from then on (on every server within keyTTL); the older keys still
// verify until RemoveSigningKeys removes them.
func RotateSigningKey(ctx context.Context, st server.KeyStore, now time.Time) (server.SigningKey, error) {
	k := NewSigningKey(now)
	if keys, err := st.SigningKeys(ctx); err != nil {
		return k, err
	} else if len(keys) > 0 && k.CreatedAt.UnixMilli() <= keys[0].CreatedAt.UnixMilli() {
		// Newest first is by creation time: keep the new key newest even
		// if this machine's clock is behind the one that made the last
		// (compared in milliseconds, as a store may keep no finer).
		k.CreatedAt = keys[0].CreatedAt.Add(time.Millisecond)
	}
	return k, st.AddSigningKey(ctx, k)
}

// RetireSigningKeys removes the keys that stopped signing more than
// olderThan ago: a key signs until the next one is made (and, on a server
// that has not read the keys since, for SigningSwitch more), and the tokens
// it signed live an access token's lifetime after that — so with olderThan
// at least that lifetime, no token still valid is ended. The newest key is
// never removed, nor one that stopped signing within SigningSwitch, which
// servers may still be signing with. It returns how many it removed and,
// if it kept a key besides the newest, when the next may be retired.
func RetireSigningKeys(ctx context.Context, st server.KeyStore, olderThan time.Duration, now time.Time) (removed int, next time.Time, err error) {
	keys, err := st.SigningKeys(ctx) // newest first
	if err != nil {
		return 0, next, err
	}
	wait := max(olderThan, SigningSwitch)
	i := 1
	for i < len(keys) && !keys[i-1].CreatedAt.Before(now.Add(-wait)) {
		i++ // keys[i] signed until keys[i-1] was made: too recently
	}
	if i >= 2 {
		next = keys[i-2].CreatedAt.Add(wait) // when keys[i-1] may go
	}
	if i < len(keys) {
		// keys[i] and the older ones: created before keys[i-1] (creation
		// times differ: RotateSigningKey).
		removed, err = st.RemoveSigningKeys(ctx, keys[i-1].CreatedAt)
	}
	return removed, next, err
}

// keyFunc returns the jwt key function verifying with the key a token
// names; a failure to read the keys is kept in *storeErr.
func (s *Service) keyFunc(ctx context.Context, storeErr *error) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if _, present := t.Header["kid"]; present && kid == "" {
			return nil, errors.New("empty kid")
		}
		secrets, ok, err := s.keys.verifying(ctx, kid)
		if err != nil {
			*storeErr = err
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		set := jwt.VerificationKeySet{}
		for _, b := range secrets {
			set.Keys = append(set.Keys, b)
		}
		return set, nil
	}
}

// ReloadKeys reads the signing keys from the store again now rather than
// when the cache expires (after a rotation in this process, say).
func (s *Service) ReloadKeys() { s.keys.expire() }
