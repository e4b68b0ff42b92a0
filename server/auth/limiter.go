package auth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Limiter slows repeated failed logins: once a key (a username, a client
// address) has FreeTries failures, each failure from then on locks it for a
// delay that doubles, up to MaxDelay, so attempt FreeTries+1 already waits.
// A success for a username clears it, and a key's count is forgotten once it
// has had no failure for Forget (so a shared carrier address is not locked
// for ever by typos spread over weeks).
//
// The counts live in the store, so every server sharing it slows the same
// guesser, and each failure is counted in one step of the store
// (UpdateLoginAttempts): failures on several servers in the same instant
// all count.
//
// A password takes time to check, so attempts sent at once would all pass
// a check of the counts before the first failure is counted. Begin counts
// the attempts in flight as failures-to-be: a key takes no more at once
// than its free tries left, and once those are spent, one at a time (on
// each server), so a burst of guesses is no faster than guesses in turn.
type Limiter struct {
	FreeTries int
	BaseDelay time.Duration
	MaxDelay  time.Duration
	Forget    time.Duration

	store server.LoginStore
	now   func() time.Time
	mu    sync.Mutex // serializes this process's read-modify-writes
	// pruned is when Fail last made the store forget the keys with no
	// recent failure (a spray of usernames with no success between).
	pruned time.Time
	// inflight counts the attempts of each key begun and not done, in
	// this process (guarded by mu).
	inflight map[string]int
}

// pruneEvery is how often at most Fail has old keys forgotten.
const pruneEvery = 10 * time.Minute

// NewLimiter returns a limiter keeping its counts in st, allowing 5 free
// tries, then 1 s doubling to 15 minutes.
func NewLimiter(st server.LoginStore, now func() time.Time) *Limiter {
	return &Limiter{FreeTries: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour, store: st, now: now}
}

// Begin starts an attempt for an account's key and others (the client's
// address): too_many_attempts if any key is locked now, or has as many
// attempts in flight as it has free tries left (one, once they are
// spent) — the account always, the others once they have a failure on
// record, so that many people signing in at once behind one address (an
// office, a carrier's NAT, the load generator) are not held up while it
// has none. Otherwise the attempt counts as in flight until done is
// called, after its Fail or Succeed.
func (l *Limiter) Begin(ctx context.Context, account string, others ...string) (done func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := append([]string{account}, others...)
	states, err := l.store.LoginAttempts(ctx, keys)
	if err != nil {
		return nil, err
	}
	now := l.now()
	for i, k := range keys {
		a := states[k]
		if now.Before(a.Until) {
			return nil, tooMany("登录失败次数过多", a.Until.Sub(now))
		}
		failures := a.Failures
		if now.Sub(a.Last) > l.Forget {
			failures = 0
		}
		if n := l.inflight[k]; n > 0 && failures+n >= l.FreeTries && (i == 0 || failures > 0) {
			return nil, tooMany("登录尝试过于频繁", time.Second)
		}
	}
	if l.inflight == nil {
		l.inflight = map[string]int{}
	}
	for _, k := range keys {
		l.inflight[k]++
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, k := range keys {
			if l.inflight[k]--; l.inflight[k] <= 0 {
				delete(l.inflight, k)
			}
		}
	}, nil
}

// tooMany is the error of a key that takes no attempt now, to retry after
// wait (at least a second).
func tooMany(why string, wait time.Duration) error {
	wait = max(wait.Round(time.Second), time.Second)
	e := server.Errorf(syncproto.CodeTooManyTries, "%s，请%s后再试", why, fmtWait(wait))
	e.RetryAfter = wait
	return e
}

func fmtWait(d time.Duration) string {
	if d >= time.Minute {
		return fmt.Sprintf(" %d 分钟", int(d.Minutes()+0.5))
	}
	return fmt.Sprintf(" %d 秒", int(d.Seconds()))
}

// Fail records a failed attempt for each key.
func (l *Limiter) Fail(ctx context.Context, keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	err := l.store.UpdateLoginAttempts(ctx, keys, func(states map[string]server.LoginAttempts) {
		for _, k := range keys {
			a := states[k]
			if now.Sub(a.Last) > l.Forget {
				a.Failures = 0
			}
			a.Failures++
			a.Last = now
			if over := a.Failures - l.FreeTries + 1; over > 0 {
				d := l.BaseDelay << min(over-1, 20)
				a.Until = now.Add(min(d, l.MaxDelay))
			}
			states[k] = a
		}
	})
	if err != nil {
		return err
	}
	if now.Sub(l.pruned) > pruneEvery {
		l.pruned = now
		return l.store.ClearLoginAttempts(ctx, "", now.Add(-l.Forget))
	}
	return nil
}

// Succeed clears a key, and forgets the keys with no failure for Forget
// (so a spray of usernames does not stay in the store).
func (l *Limiter) Succeed(ctx context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.store.ClearLoginAttempts(ctx, key, l.now().Add(-l.Forget))
}
