package auth

import (
	"context"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A known client is a browser or a phone an account has signed in on
// before: at each sign-in the client is given a token naming the account
// (KnownClient), which it keeps and sends with its next sign-ins. An
// account's key over every address (AccountKey) locks out the clients
// without one: guesses spread over many addresses lock the account for
// strangers, but not for its owner on the browser or phone they always
// use, which is still slowed by the failures of its own address (the
// black-box probe: 20 wrong passwords sent from fresh addresses, then one
// an hour, kept an office out of the console for as long as the guesser
// liked). A token is signed with the access tokens' keys, so it outlives
// neither their rotation nor KnownClientTTL, and is worth nothing to
// anyone but the account's owner: it skips a limit, not a password.

// KnownClientTTL is how long a known client's token lasts: a sign-in
// within it gives a new one.
const KnownClientTTL = 180 * 24 * time.Hour

// knownAudience is the audience of a known client's token: an access
// token has none, so neither passes for the other.
const knownAudience = "fieldsync-known-client"

// KnownClient returns a new known client's token for the account named
// username (any case).
func (s *Service) KnownClient(ctx context.Context, username string) (string, error) {
	c := &jwt.RegisteredClaims{Audience: jwt.ClaimStrings{knownAudience}}
	return s.sign(ctx, c, c, strings.ToLower(typedName(username)), KnownClientTTL)
}

// knownClient reports whether one of tokens is a known client's token of
// the account named name (lower case), unexpired and signed by a key the
// server still has.
func (s *Service) knownClient(ctx context.Context, name string, tokens []string) bool {
	for _, token := range tokens {
		if token == "" || len(token) > 2048 {
			continue
		}
		var c jwt.RegisteredClaims
		var storeErr error
		_, err := jwt.ParseWithClaims(token, &c, s.keyFunc(ctx, &storeErr),
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(issuer), jwt.WithAudience(knownAudience),
			jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.Now))
		if err == nil && storeErr == nil && c.Subject == name {
			return true
		}
	}
	return false
}
