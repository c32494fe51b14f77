package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Session is a browser login.
type Session struct {
	User    string    `json:"u"`
	CSRF    string    `json:"c"` // token for the forms of this session
	Expires time.Time `json:"e"`
}

// Login is the browser login: the authorization code flow with PKCE, state
// and nonce against the provider, ending in a session cookie.
type Login struct {
	Provider     *Provider
	ClientID     string
	ClientSecret string
	BaseURL      string // the server's public base URL, for redirect_uri and cookie paths
	Sealer       *Sealer
	SessionTTL   time.Duration
	HTTP         *http.Client
	Now          func() time.Time
}

const (
	sessionCookie = "wps_session"
	loginCookie   = "wps_login"
	// LoginPath and CallbackPath are where the login handlers are mounted.
	LoginPath    = "/wps/auth/login"
	CallbackPath = "/wps/auth/oauth_callback"
)

// loginState travels in a short-lived sealed cookie between Start and
// Callback, so no server-side table fills up with abandoned logins.
type loginState struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"x"`
	Expires  time.Time `json:"e"`
}

func (l *Login) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Login) secure() bool { return strings.HasPrefix(l.BaseURL, "https://") }

// prefix is the path the server is mounted under (from BaseURL).
func (l *Login) prefix() string {
	u, err := url.Parse(l.BaseURL)
	if err != nil {
		return ""
	}
	return strings.TrimRight(u.Path, "/")
}

func (l *Login) oauthConfig(e *Endpoints) *oauth2.Config {
	return &oauth2.Config{
		ClientID: l.ClientID, ClientSecret: l.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: e.Authorization, TokenURL: e.Token},
		RedirectURL: l.BaseURL + CallbackPath,
		Scopes:      []string{oidc.ScopeOpenID, "profile"},
	}
}

// SafeNext keeps a post-login destination only if it is a path on this
// server (no scheme, no host, no "//"), so the login cannot be used as an
// open redirect.
func SafeNext(next, prefix string) string {
	fallback := prefix + "/wps/auth/client_registration/"
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	if !strings.HasPrefix(u.Path, prefix+"/wps/") || path.Clean(u.Path) != strings.TrimSuffix(u.Path, "/") {
		return fallback
	}
	return u.RequestURI()
}

// Start redirects the browser to the provider's login.
func (l *Login) Start(w http.ResponseWriter, r *http.Request) error {
	e, err := l.Provider.Endpoints(r.Context())
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Text: "the identity provider cannot be reached; try again later", Cause: err}
	}
	st := loginState{
		State: randomString(24), Nonce: randomString(24), Verifier: oauth2.GenerateVerifier(),
		Next: SafeNext(r.URL.Query().Get("next"), l.prefix()), Expires: l.now().Add(10 * time.Minute),
	}
	l.setCookie(w, loginCookie, "login", st, st.Expires, l.prefix()+"/wps/auth/")
	target := l.oauthConfig(e).AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// Callback finishes the login: it checks state, exchanges the code with the
// PKCE verifier, verifies the ID token (signature, issuer, audience,
// expiry, nonce) and sets the session cookie.
func (l *Login) Callback(w http.ResponseWriter, r *http.Request) error {
	var st loginState
	if err := l.readCookie(r, loginCookie, "login", &st); err != nil || l.now().After(st.Expires) {
		return &Error{Status: http.StatusBadRequest, Text: "this login has expired or was started in another browser; start again"}
	}
	l.clearCookie(w, loginCookie, l.prefix()+"/wps/auth/")
	q := r.URL.Query()
	if q.Get("state") == "" || q.Get("state") != st.State {
		return &Error{Status: http.StatusBadRequest, Text: "the login answer does not match this login (state); start again"}
	}
	if e := q.Get("error"); e != "" {
		return &Error{Status: http.StatusForbidden, Text: "the identity provider refused the login: " + e + " " + q.Get("error_description")}
	}
	code := q.Get("code")
	if code == "" {
		return &Error{Status: http.StatusBadRequest, Text: "the login answer has no code"}
	}
	e, err := l.Provider.Endpoints(r.Context())
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Text: "the identity provider cannot be reached; try again later", Cause: err}
	}
	ctx := r.Context()
	if l.HTTP != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, l.HTTP)
	}
	tok, err := l.oauthConfig(e).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return &Error{Status: http.StatusBadRequest, Text: "the identity provider did not accept the login code; start again", Cause: err}
		}
		return &Error{Status: http.StatusServiceUnavailable, Text: "the identity provider cannot be reached; try again later", Cause: err}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return &Error{Status: http.StatusBadGateway, Text: "the identity provider returned no ID token"}
	}
	vctx := ctx
	if l.HTTP != nil {
		vctx = oidc.ClientContext(ctx, l.HTTP)
	}
	idt, err := e.oidc.Verifier(&oidc.Config{ClientID: l.ClientID, Now: l.now}).Verify(vctx, raw)
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Text: "the ID token from the identity provider is not valid", Cause: err}
	}
	if idt.Nonce != st.Nonce {
		return &Error{Status: http.StatusBadRequest, Text: "the ID token does not match this login (nonce); start again"}
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
	}
	_ = idt.Claims(&claims)
	user := claims.PreferredUsername
	if user == "" {
		user = idt.Subject
	}
	ttl := l.SessionTTL
	if ttl <= 0 {
		ttl = 8 * time.Hour
	}
	s := Session{User: user, CSRF: randomString(24), Expires: l.now().Add(ttl)}
	l.setCookie(w, sessionCookie, "session", s, s.Expires, l.prefix()+"/wps/")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, st.Next, http.StatusFound)
	return nil
}

// Session returns the browser session of a request, if any.
func (l *Login) Session(r *http.Request) (Session, bool) {
	var s Session
	if err := l.readCookie(r, sessionCookie, "session", &s); err != nil || l.now().After(s.Expires) || s.User == "" {
		return Session{}, false
	}
	return s, true
}

// Logout ends the browser session.
func (l *Login) Logout(w http.ResponseWriter, r *http.Request) {
	l.clearCookie(w, sessionCookie, l.prefix()+"/wps/")
}

func (l *Login) setCookie(w http.ResponseWriter, name, purpose string, v any, expires time.Time, path string) {
	b, _ := json.Marshal(v)
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: l.Sealer.Seal(purpose, b), Path: path, Expires: expires,
		HttpOnly: true, Secure: l.secure(), SameSite: http.SameSiteLaxMode,
	})
}

func (l *Login) clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: l.secure(), SameSite: http.SameSiteLaxMode})
}

func (l *Login) readCookie(r *http.Request, name, purpose string, v any) error {
	c, err := r.Cookie(name)
	if err != nil {
		return err
	}
	b, err := l.Sealer.Open(purpose, c.Value)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("cookie %s: %w", name, err)
	}
	return nil
}
