package authtest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

type starter func(testing.TB, Config) *Provider

// eachProvider runs f in parallel against both providers.
func eachProvider(t *testing.T, f func(t *testing.T, start starter)) {
	t.Helper()
	t.Parallel()
	for name, start := range map[string]starter{KindOIDCProvider: StartOIDCProvider, KindHydra: StartHydra} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, start)
		})
	}
}

func TestDiscovery(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{})
		d := p.Discovery(t)
		if d["issuer"] != p.Issuer {
			t.Errorf("issuer = %v, want %s", d["issuer"], p.Issuer)
		}
		if d["token_endpoint"] != p.TokenURL || d["authorization_endpoint"] != p.AuthURL {
			t.Errorf("endpoints %v / %v, want %s / %s", d["token_endpoint"], d["authorization_endpoint"], p.TokenURL, p.AuthURL)
		}
		if p.Kind != KindOIDCProvider {
			return
		}
		if p.Issuer != p.KeycloakURL+"/realms/compute" || p.Realm != "compute" || !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") {
			t.Errorf("issuer %s is not KeyCloak-shaped (%s, %s)", p.Issuer, p.KeycloakURL, p.Realm)
		}
		for field, suffix := range map[string]string{
			"introspection_endpoint": "/protocol/openid-connect/token/introspect",
			"registration_endpoint":  "/clients-registrations/openid-connect",
			"revocation_endpoint":    "/protocol/openid-connect/revoke",
			"end_session_endpoint":   "/protocol/openid-connect/logout",
			"jwks_uri":               "/protocol/openid-connect/certs",
		} {
			if d[field] != p.Issuer+suffix {
				t.Errorf("%s = %v, want %s", field, d[field], p.Issuer+suffix)
			}
		}
		if m, _ := d["code_challenge_methods_supported"].([]any); !slices.Contains(m, any("S256")) {
			t.Errorf("code_challenge_methods_supported = %v", m)
		}
	})
}

func TestClientCredentialsIntrospection(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		users := DefaultUsers()
		users["service-account-"+ServerClientID] = User{Roles: []string{"compute-admin"}, ClientRoles: map[string][]string{ServerClientID: {"execute"}}}
		p := start(t, Config{Users: users})
		c := p.ServerClient
		tok := p.ClientCredentialsToken(t, c.ID, c.Secret, "openid")
		if tok.AccessToken == "" || tok.ExpiresIn <= 0 || !strings.EqualFold(tok.TokenType, "bearer") {
			t.Fatalf("token = %+v", tok)
		}
		if strings.Count(tok.AccessToken, ".") == 2 {
			t.Errorf("access token %q looks like a JWT; want opaque", tok.AccessToken)
		}
		in := p.Introspect(t, tok.AccessToken, c.ID, c.Secret)
		if in["active"] != true || in["client_id"] != c.ID {
			t.Fatalf("introspection = %v", in)
		}
		if exp, _ := in["exp"].(float64); time.Until(time.Unix(int64(exp), 0)) <= 0 {
			t.Errorf("exp = %v", in["exp"])
		}
		if p.Kind == KindHydra {
			if in["sub"] != c.ID {
				t.Errorf("hydra sub = %v, want the client id", in["sub"])
			}
			return
		}
		want := "service-account-" + c.ID
		if in["username"] != want || in["preferred_username"] != want {
			t.Errorf("username, preferred_username = %v, %v; want %s", in["username"], in["preferred_username"], want)
		}
		if in["scope"] != "openid" {
			t.Errorf("scope = %v", in["scope"])
		}
		if roles := realmRoles(in); !slices.Contains(roles, "compute-admin") || !slices.Contains(roles, "default-roles-compute") {
			t.Errorf("realm_access.roles = %v", roles)
		}
		ra, _ := in["resource_access"].(map[string]any)
		cr, _ := ra[c.ID].(map[string]any)
		if roles, _ := cr["roles"].([]any); !slices.Equal(roles, []any{"execute"}) {
			t.Errorf("resource_access = %v", in["resource_access"])
		}
	})
}

func realmRoles(in map[string]any) []string {
	ra, _ := in["realm_access"].(map[string]any)
	rs, _ := ra["roles"].([]any)
	var out []string
	for _, r := range rs {
		s, _ := r.(string)
		out = append(out, s)
	}
	return out
}

// KeyCloak: 400 without client authentication, 401 with a wrong secret,
// 403 for a public client.
func TestOIDCProviderIntrospectionNeedsConfidentialClient(t *testing.T) {
	t.Parallel()
	p := StartOIDCProvider(t, Config{})
	c := p.ServerClient
	tok := p.ClientCredentialsToken(t, c.ID, c.Secret).AccessToken
	form := url.Values{"token": {tok}}
	if status, body := p.PostForm(t, p.IntrospectionURL, form, "", ""); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("no client authentication: %d %v", status, body)
	}
	if status, body := p.PostForm(t, p.IntrospectionURL, form, c.ID, "wrong"); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, body)
	}
	pub := url.Values{"token": {tok}, "client_id": {p.PublicClient.ID}}
	if status, body := p.PostForm(t, p.IntrospectionURL, pub, "", ""); status != http.StatusForbidden || body["error_description"] != "Client not allowed." {
		t.Errorf("public client: %d %v", status, body)
	}
}

func TestExpiredAndRevokedTokens(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{AccessTokenTTL: time.Second})
		c := p.ServerClient
		expiring := p.ClientCredentialsToken(t, c.ID, c.Secret)
		revoked := p.ClientCredentialsToken(t, c.ID, c.Secret)
		if in := p.Introspect(t, revoked.AccessToken, c.ID, c.Secret); in["active"] != true {
			t.Fatalf("fresh token: %v", in)
		}
		p.Revoke(t, revoked.AccessToken, c.ID, c.Secret)
		if in := p.Introspect(t, revoked.AccessToken, c.ID, c.Secret); in["active"] != false {
			t.Errorf("revoked token: %v", in)
		}
		time.Sleep(2100 * time.Millisecond)
		if in := p.Introspect(t, expiring.AccessToken, c.ID, c.Secret); in["active"] != false {
			t.Errorf("expired token: %v", in)
		}
		if in := p.Introspect(t, "garbage", c.ID, c.Secret); in["active"] != false {
			t.Errorf("garbage token: %v", in)
		}
	})
}

func TestRegistration(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{})
		// What our server sends for a user's client: RFC 7591 metadata.
		reg := p.Register(t, map[string]any{
			"client_name":                "alice",
			"grant_types":                []string{"client_credentials"},
			"token_endpoint_auth_method": "client_secret_basic",
		})
		if reg.ClientID == "" || reg.ClientSecret == "" || reg.RegistrationAccessToken == "" ||
			!strings.HasPrefix(reg.RegistrationClientURI, "http://127.0.0.1:") {
			t.Fatalf("registration = %+v", reg)
		}
		tok := p.ClientCredentialsToken(t, reg.ClientID, reg.ClientSecret)
		sc := p.ServerClient
		in := p.Introspect(t, tok.AccessToken, sc.ID, sc.Secret)
		if in["active"] != true || in["client_id"] != reg.ClientID {
			t.Fatalf("introspection of the new client's token = %v", in)
		}
		read := p.ReadRegistration(t, reg)
		if read.ClientID != reg.ClientID {
			t.Errorf("read back client %q, want %q", read.ClientID, reg.ClientID)
		}
		if p.Kind == KindHydra {
			// No rotation and no secret: the same token reads again.
			if _, ok := read.Raw["registration_access_token"]; ok || read.ClientSecret != "" {
				t.Errorf("hydra read answer = %v", read.Raw)
			}
			p.ReadRegistration(t, reg)
			return
		}
		if in["username"] != "service-account-"+reg.ClientID {
			t.Errorf("username = %v", in["username"])
		}
		// KeyCloak rotates the registration access token on every use.
		if read.RegistrationAccessToken == "" || read.RegistrationAccessToken == reg.RegistrationAccessToken {
			t.Errorf("registration access token not rotated: %q", read.RegistrationAccessToken)
		}
		if read.ClientSecret != reg.ClientSecret {
			t.Errorf("read back secret %q, want the registered one", read.ClientSecret)
		}
		h := http.Header{"Authorization": {"Bearer " + reg.RegistrationAccessToken}}
		if status, body := p.do(t, http.MethodGet, reg.RegistrationClientURI, h, nil); status != http.StatusUnauthorized {
			t.Errorf("old registration access token: %d %v", status, body)
		}
		p.ReadRegistration(t, read) // the new one works
	})
}

func TestOIDCProviderRegistrationNeedsInitialAccessToken(t *testing.T) {
	t.Parallel()
	p := StartOIDCProvider(t, Config{InitialAccessToken: "let-me-register"})
	for _, bearer := range []string{"", "wrong"} {
		h := http.Header{"Content-Type": {"application/json"}}
		if bearer != "" {
			h.Set("Authorization", "Bearer "+bearer)
		}
		status, body := p.do(t, http.MethodPost, p.RegistrationURL, h, strings.NewReader(`{"grant_types":["client_credentials"]}`))
		if status != http.StatusUnauthorized || body["error"] != "invalid_token" {
			t.Errorf("bearer %q: %d %v", bearer, status, body)
		}
	}
	if reg := p.Register(t, map[string]any{"grant_types": []string{"client_credentials"}}); reg.ClientID == "" {
		t.Errorf("registration with the initial access token: %+v", reg)
	}
}

// Stop cuts the provider off, pooled connections included; Start brings
// it back with its tokens.
func TestStopStart(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{})
		c := p.ServerClient
		tok := p.ClientCredentialsToken(t, c.ID, c.Secret)
		p.Introspect(t, tok.AccessToken, c.ID, c.Secret) // leaves a pooled connection
		p.Stop(t)
		// The first call may meet the cut pooled connection (EOF); a new
		// connection is refused.
		for i := range 2 {
			req, _ := http.NewRequest(http.MethodPost, p.IntrospectionURL, strings.NewReader("token="+tok.AccessToken))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(c.ID, c.Secret)
			resp, err := httpClient.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("stopped provider answered %s", resp.Status)
			}
			if i == 1 && !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("stopped provider: %v, want connection refused", err)
			}
		}
		p.Start(t)
		if in := p.Introspect(t, tok.AccessToken, c.ID, c.Secret); in["active"] != true {
			t.Errorf("token after restart: %v", in)
		}
	})
}

// The cwt client's redirect URIs, with and without the trailing slash, as
// a Go "browser" that stops at the redirect (nothing listens on 8888).
func TestHTTPLoginPKCE(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{})
		for _, redirect := range p.PublicClient.RedirectURIs {
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, Timeout: httpTimeout}
			pkce := NewPKCE()
			state := randomString()
			got := p.HTTPLogin(t, client, p.AuthCodeURL(p.PublicClient.ID, redirect, state, pkce, "openid", "offline_access"), "alice")
			if !strings.HasPrefix(got.String(), redirect) || got.Query().Get("state") != state || got.Query().Get("code") == "" {
				t.Fatalf("redirect to %s, want %s with code and state", got, redirect)
			}
			tok := p.ExchangeCode(t, p.PublicClient.ID, "", got.Query().Get("code"), redirect, pkce.Verifier)
			checkUserToken(t, p, tok, "alice")
		}
	})
}

// A public client must use PKCE.
func TestPKCERequired(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{AutoLogin: "alice"})
		q := url.Values{
			"response_type": {"code"}, "client_id": {p.PublicClient.ID}, "state": {randomString()},
			"redirect_uri": {p.PublicClient.RedirectURIs[0]}, "scope": {"openid"},
		}
		jar, _ := cookiejar.New(nil)
		got := p.HTTPLogin(t, &http.Client{Jar: jar, Timeout: httpTimeout}, p.AuthURL+"?"+q.Encode(), "")
		if got.Query().Get("code") != "" || got.Query().Get("error") == "" {
			t.Errorf("authorization without PKCE redirected to %s; want an error", got)
		}
	})
}

func checkUserToken(t *testing.T, p *Provider, tok Token, user string) {
	t.Helper()
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" {
		t.Errorf("token response lacks a token: %+v", tok)
	}
	sc := p.ServerClient
	in := p.Introspect(t, tok.AccessToken, sc.ID, sc.Secret)
	if in["active"] != true || in["client_id"] != p.PublicClient.ID {
		t.Fatalf("introspection = %v", in)
	}
	if p.Kind == KindHydra {
		ext, _ := in["ext"].(map[string]any)
		if in["sub"] != user || ext["username"] != user {
			t.Errorf("hydra sub, ext = %v, %v; want %s", in["sub"], in["ext"], user)
		}
		return
	}
	if in["username"] != user || in["preferred_username"] != user {
		t.Errorf("username = %v, preferred_username = %v; want %s", in["username"], in["preferred_username"], user)
	}
	if in["sub"] == user || in["sub"] == nil {
		t.Errorf("sub = %v; want a KeyCloak-like id, not the user name", in["sub"])
	}
	if roles := realmRoles(in); !slices.Contains(roles, "compute-user") {
		t.Errorf("realm_access.roles = %v", roles)
	}
}

// The server's own browser login: its confidential client gets a redirect
// URI once the server's port is known, then does the code flow with PKCE
// and a nonce, and gets an ID token naming the user.
func TestServerClientLogin(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{})
		c := p.ServerClient
		c.RedirectURIs = []string{"http://127.0.0.1:9/wps/auth/oauth_callback"}
		p.ServerClient = p.SetClient(t, c)
		jar, _ := cookiejar.New(nil)
		pkce := NewPKCE()
		state := randomString()
		got := p.HTTPLogin(t, &http.Client{Jar: jar, Timeout: httpTimeout},
			p.AuthCodeURL(c.ID, c.RedirectURIs[0], state, pkce, "openid", "profile"), "bob")
		if got.Query().Get("state") != state || got.Query().Get("code") == "" {
			t.Fatalf("redirect to %s", got)
		}
		tok := p.ExchangeCode(t, c.ID, c.Secret, got.Query().Get("code"), c.RedirectURIs[0], pkce.Verifier)
		claims := jwtClaims(t, tok.IDToken)
		if claims["iss"] != p.Issuer || claims["aud"] != c.ID && !slices.Contains(anySlice(claims["aud"]), any(c.ID)) ||
			claims["nonce"] != state || claims["preferred_username"] != "bob" {
			t.Errorf("ID token claims = %v", claims)
		}
		// Still good for client credentials.
		p.ClientCredentialsToken(t, c.ID, c.Secret)
	})
}

func anySlice(v any) []any { s, _ := v.([]any); return s }

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err == nil {
		err = json.Unmarshal(b, &claims)
	}
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return claims
}

// With AutoLogin no form is shown and the user is the configured one.
func TestAutoLogin(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{AutoLogin: "alice"})
		jar, _ := cookiejar.New(nil)
		pkce := NewPKCE()
		redirect := p.PublicClient.RedirectURIs[0]
		got := p.HTTPLogin(t, &http.Client{Jar: jar, Timeout: httpTimeout},
			p.AuthCodeURL(p.PublicClient.ID, redirect, randomString(), pkce, "openid", "offline_access"), "")
		if got.Query().Get("code") == "" {
			t.Fatalf("redirect to %s", got)
		}
		tok := p.ExchangeCode(t, p.PublicClient.ID, "", got.Query().Get("code"), redirect, pkce.Verifier)
		checkUserToken(t, p, tok, "alice")
	})
}
