package cwt

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// TokenAuthenticator gets access tokens from an OAuth2/OpenID Connect
// provider and sends them as bearer tokens. A token is reused until shortly
// before it expires (expires_in), then renewed with its refresh token, and
// only when that is impossible obtained anew: by the client_credentials
// grant when there is a client secret, otherwise by Login. With a Store,
// tokens survive the program, in the Python client's layout.
type TokenAuthenticator struct {
	// Endpoints of the provider; nil means discovered from Issuer the first
	// time a token is needed.
	Endpoints *Endpoints
	Issuer    string

	ClientID     string
	ClientSecret string   // set: the client_credentials grant
	Scopes       []string // for client_credentials; none by default

	// Store and Profile, when Store is set, keep the token (and the client
	// id and secret) between programs. The client id and secret saved there
	// are used when the fields above are empty, as the Python client does.
	Store   *Store
	Profile string

	// Login obtains a token interactively (see PKCELogin); nil means an
	// expired login is an *AuthError wrapping ErrLoginRequired.
	Login func(ctx context.Context) (*Token, error)

	HTTPClient *http.Client
	Now        func() time.Time // for tests; nil means time.Now

	mu     sync.Mutex
	token  *Token
	loaded bool
}

func (a *TokenAuthenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *TokenAuthenticator) profile() string {
	if a.Profile == "" {
		return DefaultProfile
	}
	return a.Profile
}

// Authorize implements Authenticator.
func (a *TokenAuthenticator) Authorize(ctx context.Context, req *http.Request) error {
	t, err := a.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return nil
}

// Refused implements Retrier: the token the server refused is not used
// again (it may have been revoked before it expired).
func (a *TokenAuthenticator) Refused(req *http.Request) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	sent := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	if a.token == nil || a.token.AccessToken != sent {
		return a.token != nil // already replaced by another request
	}
	stale := *a.token
	stale.AccessToken = ""
	a.token = &stale
	return stale.RefreshToken != "" || a.ClientSecret != "" || a.Login != nil
}

// Token returns a valid access token, renewing it as needed.
func (a *TokenAuthenticator) Token(ctx context.Context) (*Token, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.load(); err != nil {
		return nil, err
	}
	now := a.now()
	if a.token.Valid(now) {
		return a.token, nil
	}
	if a.token.CanRefresh(now) {
		ep, err := a.endpoints(ctx)
		if err != nil {
			return nil, err
		}
		t, err := refreshToken(ctx, a.HTTPClient, ep, a.ClientID, a.ClientSecret, a.token.RefreshToken, now)
		switch {
		case err == nil:
			return a.keep(t)
		case errors.Is(err, errInvalidGrant):
			// The refresh token expired or was revoked: start again below.
		default:
			return nil, err
		}
	}
	if a.ClientSecret != "" {
		if a.ClientID == "" {
			return nil, &AuthError{Text: "a client secret was given without its client id"}
		}
		ep, err := a.endpoints(ctx)
		if err != nil {
			return nil, err
		}
		form := map[string][]string{"grant_type": {"client_credentials"}}
		if len(a.Scopes) > 0 {
			form["scope"] = []string{strings.Join(a.Scopes, " ")}
		}
		t, err := postToken(ctx, a.HTTPClient, ep.Token, form, a.ClientID, a.ClientSecret, now)
		if err != nil {
			return nil, err
		}
		return a.keep(t)
	}
	if a.Login != nil {
		t, err := a.Login(ctx)
		if err != nil {
			return nil, err
		}
		return a.keep(t)
	}
	text := "no access token is saved"
	if a.token != nil {
		text = "the saved login has expired"
	}
	return nil, &AuthError{Text: text, Err: ErrLoginRequired}
}

// load reads the saved token and client once.
func (a *TokenAuthenticator) load() error {
	if a.loaded || a.Store == nil {
		a.loaded = true
		return nil
	}
	e, ok, err := a.Store.Get(a.profile())
	if err != nil {
		return err
	}
	a.loaded = true
	if !ok {
		return nil
	}
	if a.ClientID == "" {
		a.ClientID = e.ClientID
	}
	if a.ClientSecret == "" && e.ClientID == a.ClientID {
		a.ClientSecret = e.ClientSecret
	}
	if a.token == nil && (e.ClientID == "" || e.ClientID == a.ClientID) {
		a.token = e.TokenOf()
	}
	return nil
}

// keep makes t the current token and saves it.
func (a *TokenAuthenticator) keep(t *Token) (*Token, error) {
	if t.Acquired.IsZero() {
		t.Acquired = a.now()
	}
	a.token = t
	if a.Store == nil {
		return t, nil
	}
	err := a.Store.Update(a.profile(), func(e *Entry) error {
		e.SetToken(t)
		if a.ClientID != "" {
			e.ClientID = a.ClientID
		}
		if a.ClientSecret != "" {
			e.ClientSecret = a.ClientSecret
		}
		if a.Issuer != "" && e.Issuer == "" && e.KeycloakURL == "" {
			e.Issuer = a.Issuer
		}
		return nil
	})
	return t, err
}

func (a *TokenAuthenticator) endpoints(ctx context.Context) (*Endpoints, error) {
	if a.Endpoints != nil {
		return a.Endpoints, nil
	}
	if a.Issuer == "" {
		return nil, &AuthError{Text: "no identity provider is known for this login", Err: ErrLoginRequired}
	}
	ep, err := Discover(ctx, a.HTTPClient, a.Issuer)
	if err != nil {
		return nil, err
	}
	a.Endpoints = ep
	return ep, nil
}
