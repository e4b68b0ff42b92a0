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
}

// pruneEvery is how often at most Fail has old keys forgotten.
const pruneEvery = 10 * time.Minute

// NewLimiter returns a limiter keeping its counts in st, allowing 5 free
// tries, then 1 s doubling to 15 minutes.
func NewLimiter(st server.LoginStore, now func() time.Time) *Limiter {
	return &Limiter{FreeTries: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour, store: st, now: now}
}

// Check returns too_many_attempts if any key is locked now.
func (l *Limiter) Check(ctx context.Context, keys ...string) error {
	states, err := l.store.LoginAttempts(ctx, keys)
	if err != nil {
		return err
	}
	now := l.now()
	for _, k := range keys {
		if a, ok := states[k]; ok && now.Before(a.Until) {
			wait := a.Until.Sub(now).Round(time.Second)
			if wait < time.Second {
				wait = time.Second
			}
			e := server.Errorf(syncproto.CodeTooManyTries, "登录失败次数过多，请 %s 后再试", fmtWait(wait))
			e.RetryAfter = wait
			return e
		}
	}
	return nil
}

func fmtWait(d time.Duration) string {
	if d >= time.Minute {
		return fmt.Sprintf("%d 分钟", int(d.Minutes()+0.5))
	}
	return fmt.Sprintf("%d 秒", int(d.Seconds()))
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
