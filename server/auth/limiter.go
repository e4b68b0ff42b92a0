package auth

import (
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
type Limiter struct {
	FreeTries int
	BaseDelay time.Duration
	MaxDelay  time.Duration
	Forget    time.Duration

	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*attempts
}

type attempts struct {
	failures int
	until    time.Time
	last     time.Time
}

// NewLimiter returns a limiter allowing 5 free tries, then 1 s doubling to
// 15 minutes.
func NewLimiter(now func() time.Time) *Limiter {
	return &Limiter{FreeTries: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour, now: now, keys: map[string]*attempts{}}
}

// Check returns an error if any key is locked now.
func (l *Limiter) Check(keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		if a := l.keys[k]; a != nil && now.Before(a.until) {
			wait := a.until.Sub(now).Round(time.Second)
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
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		a := l.keys[k]
		if a == nil {
			a = &attempts{}
			l.keys[k] = a
		}
		if now.Sub(a.last) > l.Forget {
			a.failures = 0
		}
		a.failures++
		a.last = now
		if over := a.failures - l.FreeTries + 1; over > 0 {
			d := l.BaseDelay << min(over-1, 20)
			a.until = now.Add(min(d, l.MaxDelay))
		}
	}
	if len(l.keys) > 100000 { // bound memory under a spray of usernames
		for k, a := range l.keys {
			if now.After(a.until) && now.Sub(a.last) > l.Forget {
				delete(l.keys, k)
			}
		}
	}
}

// Succeed clears a key.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}
