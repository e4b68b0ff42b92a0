package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Limiter slows repeated failed logins: once a key (a username at a client
// address, a client address; an account over all addresses after
// AccountFreeTries) has FreeTries failures, each failure from then on locks it for a
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
// the attempts in flight, in the store, as failures-to-be: a key takes no
// more at once than its free tries left, and once those are spent, one at
// a time — on all the servers together — so a burst of guesses, spread
// over any number of servers, is no faster than guesses in turn.
type Limiter struct {
	FreeTries int
	// AccountFreeTries are the free tries of an account's key over every
	// address (AccountKey): many more than an address's at it, so that
	// someone failing from one address locks that address out, not the
	// account's owner signing in from another (a guessable username and
	// one request every few minutes kept an office out), while guesses
	// spread over many addresses are still slowed.
	AccountFreeTries int
	BaseDelay        time.Duration
	MaxDelay         time.Duration
	Forget           time.Duration

	store server.LoginStore
	now   func() time.Time
	mu    sync.Mutex // guards pruned
	// pruned is when Fail last made the store forget the keys with no
	// recent failure (a spray of usernames with no success between).
	pruned time.Time
}

// pruneEvery is how often at most Fail has old keys forgotten.
const pruneEvery = 10 * time.Minute

// NewLimiter returns a limiter keeping its counts in st, allowing 5 free
// tries, then 1 s doubling to 15 minutes.
func NewLimiter(st server.LoginStore, now func() time.Time) *Limiter {
	return &Limiter{FreeTries: 5, AccountFreeTries: 20, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour, store: st, now: now}
}

// AccountKey is the key of an account over every address, which has
// AccountFreeTries.
func AccountKey(username string) string { return accountPrefix + username }

const accountPrefix = "acct:"

// free is a key's free tries.
func (l *Limiter) free(key string) int {
	if strings.HasPrefix(key, accountPrefix) && l.AccountFreeTries > 0 {
		return l.AccountFreeTries
	}
	return l.FreeTries
}

// Begin starts an attempt for an account's key and others (the client's
// address, the account's over every address): too_many_attempts if any
// key is locked now, or has as many attempts in flight as it has free
// tries left (one, once they are spent) — the account's keys always, the
// others once they have a failure on record, so that many people signing in at once behind one address (an
// office, a carrier's NAT, the load generator) are not held up while it
// has none. Otherwise the attempt counts as in flight, in the store, so
// on every server sharing it, until done is called, after its Fail or
// Succeed (or, if this server dies first, for inFlightLease).
func (l *Limiter) Begin(ctx context.Context, account string, others ...string) (done func(), err error) {
	keys := append([]string{account}, others...)
	var refused error
	err = l.store.UpdateLoginAttempts(ctx, keys, func(states map[string]server.LoginAttempts) {
		now := l.now()
		for i, k := range keys {
			a := states[k]
			if now.Before(a.Until) {
				refused = tooMany("登录失败次数过多", a.Until.Sub(now))
				return
			}
			failures := a.Failures
			if now.Sub(a.Last) > l.Forget {
				failures = 0
			}
			if n := inFlight(a, now); n > 0 && failures+n >= l.free(k) && (i == 0 || strings.HasPrefix(k, accountPrefix) || failures > 0) {
				refused = tooMany("登录尝试过于频繁", time.Second)
				return
			}
		}
		for _, k := range keys {
			a := states[k]
			a.InFlight, a.InFlightUntil = inFlight(a, now)+1, now.Add(inFlightLease)
			states[k] = a
		}
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return nil, err
	}
	return func() {
		// Not the request's context: it may be done, and the count must
		// go.
		ctx := context.WithoutCancel(ctx)
		_ = l.store.UpdateLoginAttempts(ctx, keys, func(states map[string]server.LoginAttempts) {
			now := l.now()
			for _, k := range keys {
				if a, ok := states[k]; ok {
					a.InFlight = max(inFlight(a, now)-1, 0)
					states[k] = a
				}
			}
		})
	}, nil
}

// inFlightLease is how long an attempt counts as in flight at most: far
// longer than a password takes to check.
const inFlightLease = time.Minute

// tooMany is the error of a key that takes no attempt now, to retry after
// wait (at least a second).
func tooMany(why string, wait time.Duration) error {
	wait = max((wait + time.Second - 1).Truncate(time.Second), time.Second) // up: told less, a client comes back too soon
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

// Fail records a failed attempt for each key — for an account's key over
// every address (AccountKey), only while the first key (the account at
// this address) has free tries left: one address adds at most FreeTries
// failures to it, so that no single address, however patient, locks the
// account for its owner elsewhere.
func (l *Limiter) Fail(ctx context.Context, keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	err := l.store.UpdateLoginAttempts(ctx, keys, func(states map[string]server.LoginAttempts) {
		first := states[keys[0]]
		if now.Sub(first.Last) > l.Forget {
			first.Failures = 0
		}
		for i, k := range keys {
			a := states[k]
			if i > 0 && strings.HasPrefix(k, accountPrefix) && first.Failures >= l.FreeTries {
				continue
			}
			if now.Sub(a.Last) > l.Forget {
				a.Failures = 0
			}
			a.Failures++
			a.Last = now
			if over := a.Failures - l.free(k) + 1; over > 0 {
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

// Succeed clears keys, and forgets the keys with no failure for Forget
// (so a spray of usernames does not stay in the store).
func (l *Limiter) Succeed(ctx context.Context, keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The keys' failures are forgotten, not the attempts still in flight
	// on them (other sign-ins of the account being checked now): deleted
	// with the rest, they were forgotten too, and as many again let in.
	if err := l.store.UpdateLoginAttempts(ctx, keys, func(states map[string]server.LoginAttempts) {
		for _, k := range keys {
			a := states[k]
			a.Failures, a.Until, a.Last = 0, time.Time{}, time.Time{}
			states[k] = a
		}
	}); err != nil {
		return err
	}
	// And the rows of keys long quiet, of any client.
	return l.store.ClearLoginAttempts(ctx, "", l.now().Add(-l.Forget))
}

// inFlight is the attempts of a key in flight at now (none once their
// lease has run out).
func inFlight(a server.LoginAttempts, now time.Time) int {
	if now.After(a.InFlightUntil) {
		return 0
	}
	return a.InFlight
}
