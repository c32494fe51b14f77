package authtest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Defaults of Config.
const (
	DefaultRealm     = "compute"
	ServerClientID   = "compute-wps"
	PublicClientID   = "compute_public"
	DefaultAccessTTL = 5 * time.Minute
)

// Provider kinds.
const (
	KindOIDCProvider = "oidc-provider"
	KindHydra        = "hydra"
)

const (
	httpTimeout         = 10 * time.Second
	providerStartupWait = 20 * time.Second
)

// Config describes a provider for one test. The zero value is usable.
type Config struct {
	// Realm is the KeyCloak realm in the issuer path (oidc-provider only);
	// default "compute".
	Realm string
	// Users who may log in, by name; nil means DefaultUsers. With
	// oidc-provider, roles for a client's service account go under
	// "service-account-<client_id>".
	Users map[string]User
	// AccessTokenTTL of every access token; default 5 minutes. Rounded down
	// to whole seconds, at least one.
	AccessTokenTTL time.Duration
	// AutoLogin logs every authorization request in as this user without
	// showing the login form.
	AutoLogin string
	// InitialAccessToken for registration (oidc-provider); default random.
	// Hydra registers anonymously.
	InitialAccessToken string
	// ServerClient is the confidential client of the server under test;
	// default ID "compute-wps" with a random secret, grant client_credentials,
	// plus authorization_code and refresh_token when it has redirect URIs.
	ServerClient Client
	// PublicClient is the native PKCE client; default compute_public with
	// redirect URIs http://127.0.0.1:8888 and http://127.0.0.1:8888/.
	PublicClient Client
	// Scopes the provider knows besides openid, offline_access, profile and
	// email.
	Scopes []string
}

// User is an account on the provider.
type User struct {
	Roles       []string            // realm roles (realm_access.roles)
	ClientRoles map[string][]string // client id -> roles (resource_access)
	Password    string              // empty: any password is accepted
}

// DefaultUsers are alice (realm role "compute-user") and bob (no extra role).
func DefaultUsers() map[string]User {
	return map[string]User{
		"alice": {Roles: []string{"compute-user"}},
		"bob":   {},
	}
}

// Client is an OAuth2 client registered with a provider.
type Client struct {
	ID           string
	Secret       string   // empty: a public client (token_endpoint_auth_method none)
	RedirectURIs []string // exact strings, as the client will send them
	// GrantTypes nil: client_credentials if it has a secret, plus
	// authorization_code and refresh_token if it has redirect URIs.
	GrantTypes []string
	Scope      string // allowed scopes, space-separated; empty: the provider's default
}

// Token is a token endpoint answer.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
}

// Registration is an RFC 7591 registration answer.
type Registration struct {
	ClientID                string         `json:"client_id"`
	ClientSecret            string         `json:"client_secret"`
	RegistrationAccessToken string         `json:"registration_access_token"`
	RegistrationClientURI   string         `json:"registration_client_uri"`
	Raw                     map[string]any `json:"-"`
}

// Provider is a running OAuth2/OIDC provider.
type Provider struct {
	Kind   string // KindOIDCProvider or KindHydra
	Issuer string
	// KeycloakURL and Realm, for oidc-provider, are what AUTH_KEYCLOAK_URL
	// and AUTH_KEYCLOAK_REALM would be: Issuer is KeycloakURL/realms/Realm.
	KeycloakURL, Realm string
	// Endpoints. Hydra's IntrospectionURL is on its admin API, and its
	// RegistrationURL is not in its discovery document.
	AuthURL, TokenURL, IntrospectionURL, RevocationURL, RegistrationURL string
	EndSessionURL, JWKSURL, UserinfoURL                                 string
	// AdminURL is Hydra's admin API (empty for oidc-provider).
	AdminURL string
	// InitialAccessToken authorizes registration (empty for Hydra).
	InitialAccessToken string
	ServerClient       Client
	PublicClient       Client

	users    map[string]User
	fronts   []*front
	hosts    map[string]bool // host:port of the provider and its login app
	setCli   func(tb testing.TB, c Client) Client
	register func(tb testing.TB, metadata map[string]any) Registration
}

func (c Config) withDefaults() Config {
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.Users == nil {
		c.Users = DefaultUsers()
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = DefaultAccessTTL
	}
	if c.AccessTokenTTL < time.Second {
		c.AccessTokenTTL = time.Second
	}
	if c.InitialAccessToken == "" {
		c.InitialAccessToken = "iat-" + randomString()
	}
	if c.ServerClient.ID == "" {
		c.ServerClient.ID = ServerClientID
	}
	if c.ServerClient.Secret == "" {
		c.ServerClient.Secret = "secret-" + randomString()
	}
	if c.PublicClient.ID == "" {
		c.PublicClient.ID = PublicClientID
	}
	if c.PublicClient.RedirectURIs == nil {
		c.PublicClient.RedirectURIs = []string{"http://127.0.0.1:8888", "http://127.0.0.1:8888/"}
	}
	return c
}

func randomString() string { return rand.Text() }

// grantTypes fills in the default grants of a client.
func (c Client) grantTypes() []string {
	if c.GrantTypes != nil {
		return c.GrantTypes
	}
	var g []string
	if c.Secret != "" {
		g = append(g, "client_credentials")
	}
	if len(c.RedirectURIs) > 0 {
		g = append(g, "authorization_code", "refresh_token")
	}
	return g
}

// metadata is the client as RFC 7591 metadata.
func (c Client) metadata() map[string]any {
	m := map[string]any{
		"client_id":     c.ID,
		"grant_types":   c.grantTypes(),
		"redirect_uris": append([]string{}, c.RedirectURIs...),
	}
	if c.Secret == "" {
		m["token_endpoint_auth_method"] = "none"
	} else {
		m["client_secret"] = c.Secret
		m["token_endpoint_auth_method"] = "client_secret_basic"
	}
	resp := []string{}
	for _, g := range c.grantTypes() {
		if g == "authorization_code" {
			resp = []string{"code"}
		}
	}
	m["response_types"] = resp
	if c.Scope != "" {
		m["scope"] = c.Scope
	}
	return m
}

// SetClient adds the client, replacing one with the same ID, and returns
// it. To let the server's client log users in once its port is known:
//
//	c := p.ServerClient
//	c.RedirectURIs = []string{srv.URL + "/wps/auth/oauth_callback"}
//	p.ServerClient = p.SetClient(t, c)
func (p *Provider) SetClient(tb testing.TB, c Client) Client {
	tb.Helper()
	return p.setCli(tb, c)
}

// Stop makes the provider unreachable: its ports refuse connections and
// open connections are cut. Its state is kept for Start.
func (p *Provider) Stop(tb testing.TB) {
	tb.Helper()
	for _, f := range p.fronts {
		f.stop()
	}
}

// Start makes a stopped provider reachable again on the same ports.
func (p *Provider) Start(tb testing.TB) {
	tb.Helper()
	for _, f := range p.fronts {
		if err := f.start(); err != nil {
			tb.Fatalf("authtest: restart %s on %s: %v", p.Kind, f.addr, err)
		}
	}
}

// Discovery fetches {issuer}/.well-known/openid-configuration.
func (p *Provider) Discovery(tb testing.TB) map[string]any {
	tb.Helper()
	status, body := p.do(tb, http.MethodGet, p.Issuer+"/.well-known/openid-configuration", nil, nil)
	if status != http.StatusOK {
		tb.Fatalf("authtest: discovery: %d %v", status, body)
	}
	return body
}

// PostForm posts form to endpoint, with HTTP Basic client authentication
// when clientID is not empty, and returns the status and the JSON answer.
// It is the raw call behind the helpers, for tests of refusals.
func (p *Provider) PostForm(tb testing.TB, endpoint string, form url.Values, clientID, secret string) (int, map[string]any) {
	tb.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if clientID != "" {
		h.Set("Authorization", basicAuth(clientID, secret))
	}
	return p.do(tb, http.MethodPost, endpoint, h, strings.NewReader(form.Encode()))
}

// basicAuth encodes RFC 6749 §2.3.1 client credentials: form-encoded, then
// base64, which http.Request.SetBasicAuth does not do.
func basicAuth(id, secret string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return r.Header.Get("Authorization")
}

// ClientCredentialsToken gets a token with the client_credentials grant.
func (p *Provider) ClientCredentialsToken(tb testing.TB, clientID, secret string, scopes ...string) Token {
	tb.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	return p.token(tb, form, clientID, secret)
}

// ExchangeCode redeems an authorization code; secret is empty for a public
// client, which then sends its client_id in the form.
func (p *Provider) ExchangeCode(tb testing.TB, clientID, secret, code, redirectURI, verifier string) Token {
	tb.Helper()
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {redirectURI},
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return p.token(tb, form, clientID, secret)
}

// Refresh uses a refresh token.
func (p *Provider) Refresh(tb testing.TB, clientID, secret, refreshToken string) Token {
	tb.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return p.token(tb, form, clientID, secret)
}

func (p *Provider) token(tb testing.TB, form url.Values, clientID, secret string) Token {
	tb.Helper()
	user := clientID
	if secret == "" {
		form.Set("client_id", clientID)
		user = ""
	}
	status, body := p.PostForm(tb, p.TokenURL, form, user, secret)
	if status != http.StatusOK {
		tb.Fatalf("authtest: %s token (%s): %d %v", p.Kind, form.Get("grant_type"), status, body)
	}
	var t Token
	remarshal(tb, body, &t)
	return t
}

// Introspect asks the introspection endpoint about token, authenticated as
// the given client (Hydra's admin API ignores the authentication), and fails
// the test unless the answer is 200.
func (p *Provider) Introspect(tb testing.TB, token, clientID, secret string) map[string]any {
	tb.Helper()
	status, body := p.PostForm(tb, p.IntrospectionURL, url.Values{"token": {token}}, clientID, secret)
	if status != http.StatusOK {
		tb.Fatalf("authtest: %s introspection: %d %v", p.Kind, status, body)
	}
	return body
}

// Revoke revokes a token (RFC 7009) as the client it was issued to.
func (p *Provider) Revoke(tb testing.TB, token, clientID, secret string) {
	tb.Helper()
	user := clientID
	form := url.Values{"token": {token}}
	if secret == "" {
		form.Set("client_id", clientID)
		user = ""
	}
	status, body := p.PostForm(tb, p.RevocationURL, form, user, secret)
	if status != http.StatusOK {
		tb.Fatalf("authtest: %s revocation: %d %v", p.Kind, status, body)
	}
}

// Register registers a client by RFC 7591: with the initial access token
// (oidc-provider) or anonymously (Hydra).
func (p *Provider) Register(tb testing.TB, metadata map[string]any) Registration {
	tb.Helper()
	return p.register(tb, metadata)
}

// ReadRegistration reads a registered client with its registration access
// token. With oidc-provider (as with KeyCloak) the answer carries a new
// token and the old one is dead. Hydra's answer has neither the secret nor
// a token nor the URI (the old token stays valid); fields the answer lacks
// are kept from r, except the secret. Raw is the answer as sent.
func (p *Provider) ReadRegistration(tb testing.TB, r Registration) Registration {
	tb.Helper()
	h := http.Header{"Authorization": {"Bearer " + r.RegistrationAccessToken}}
	status, body := p.do(tb, http.MethodGet, r.RegistrationClientURI, h, nil)
	if status != http.StatusOK {
		tb.Fatalf("authtest: %s read registration: %d %v", p.Kind, status, body)
	}
	got := toRegistration(tb, body)
	if got.RegistrationAccessToken == "" {
		got.RegistrationAccessToken = r.RegistrationAccessToken
	}
	if got.RegistrationClientURI == "" {
		got.RegistrationClientURI = r.RegistrationClientURI
	}
	return got
}

func (p *Provider) postRegistration(tb testing.TB, bearer string, metadata map[string]any) Registration {
	tb.Helper()
	b, err := json.Marshal(metadata)
	if err != nil {
		tb.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if bearer != "" {
		h.Set("Authorization", "Bearer "+bearer)
	}
	status, body := p.do(tb, http.MethodPost, p.RegistrationURL, h, strings.NewReader(string(b)))
	if status != http.StatusCreated {
		tb.Fatalf("authtest: %s registration: %d %v", p.Kind, status, body)
	}
	return toRegistration(tb, body)
}

func toRegistration(tb testing.TB, body map[string]any) Registration {
	tb.Helper()
	var r Registration
	remarshal(tb, body, &r)
	r.Raw = body
	return r
}

// AuthCodeURL is the authorization request URL for the code flow with PKCE
// (S256) and, when scopes include openid, a nonce equal to state.
func (p *Provider) AuthCodeURL(clientID, redirectURI, state string, pkce PKCE, scopes ...string) string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"state":                 {state},
		"code_challenge":        {pkce.Challenge},
		"code_challenge_method": {"S256"},
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	for _, s := range scopes {
		if s == "openid" {
			q.Set("nonce", state)
		}
	}
	return p.AuthURL + "?" + q.Encode()
}

var httpClient = &http.Client{Timeout: httpTimeout}

// do sends a request and decodes a JSON object answer (nil if it is not
// one).
func (p *Provider) do(tb testing.TB, method, u string, h http.Header, body io.Reader) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		tb.Fatalf("authtest: %v", err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		tb.Fatalf("authtest: %s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("authtest: %s %s: %v", method, u, err)
	}
	var out map[string]any
	if json.Unmarshal(raw, &out) != nil && len(raw) > 0 {
		out = map[string]any{"body": string(raw)}
	}
	return resp.StatusCode, out
}

func remarshal(tb testing.TB, in any, out any) {
	tb.Helper()
	b, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		tb.Fatalf("authtest: decode %v: %v", in, err)
	}
}

func must(tb testing.TB, err error, what string, args ...any) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("authtest: %s: %v", fmt.Sprintf(what, args...), err)
	}
}
