package cwt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Authenticator adds credentials to a request for the server.
type Authenticator interface {
	Authorize(ctx context.Context, req *http.Request) error
}

// Retrier is implemented by authenticators whose credentials can go stale:
// told that the server refused the request, it forgets the credentials and
// says whether trying again may succeed.
type Retrier interface {
	Refused(req *http.Request) bool
}

// BearerToken is a ready access token, sent as "Authorization: Bearer".
type BearerToken string

// Authorize implements Authenticator.
func (t BearerToken) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+string(t))
	return nil
}

// Endpoints are what an OpenID Connect provider's discovery document says
// about it, as far as this package needs.
type Endpoints struct {
	Issuer        string   `json:"issuer"`
	Authorization string   `json:"authorization_endpoint"`
	Token         string   `json:"token_endpoint"`
	Revocation    string   `json:"revocation_endpoint,omitempty"`
	AuthMethods   []string `json:"token_endpoint_auth_methods_supported,omitempty"`
}

// KeycloakIssuer is the issuer of a KeyCloak realm: {url}/realms/{realm}.
// url is KeyCloak's base URL, which may end in /auth.
func KeycloakIssuer(keycloakURL, realm string) string {
	return strings.TrimRight(keycloakURL, "/") + "/realms/" + url.PathEscape(realm)
}

// Discover reads {issuer}/.well-known/openid-configuration.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Endpoints, error) {
	if hc == nil {
		hc = defaultHTTP
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	issuer = strings.TrimRight(issuer, "/")
	u := issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("identity provider %q: %w", issuer, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &reachError{url: u, err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("no OpenID Connect discovery document at %s (HTTP %d); check the issuer, or the KeyCloak URL and realm", u, resp.StatusCode)
	}
	var e Endpoints
	if err := json.Unmarshal(body, &e); err != nil || e.Token == "" {
		return nil, fmt.Errorf("the discovery document at %s has no token_endpoint", u)
	}
	return &e, nil
}

// Token is a token endpoint's answer and when it was obtained.
type Token struct {
	AccessToken      string
	TokenType        string
	RefreshToken     string
	IDToken          string
	Scope            string
	ExpiresIn        int64 // seconds; 0 when unknown
	RefreshExpiresIn int64 // seconds; 0 when unknown or unlimited
	Acquired         time.Time
}

// expiryMargin is how long before its expiry a token is replaced: enough
// for a request to reach the server, and never most of a short lifetime.
func expiryMargin(lifetime time.Duration) time.Duration {
	return min(30*time.Second, lifetime/5)
}

// Valid reports whether the access token may still be used at now.
func (t *Token) Valid(now time.Time) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.ExpiresIn <= 0 {
		return true // unknown: used until the server refuses it
	}
	life := time.Duration(t.ExpiresIn) * time.Second
	return now.Before(t.Acquired.Add(life - expiryMargin(life)))
}

// CanRefresh reports whether the refresh token may still be used at now.
func (t *Token) CanRefresh(now time.Time) bool {
	if t == nil || t.RefreshToken == "" {
		return false
	}
	if t.RefreshExpiresIn <= 0 {
		return true
	}
	life := time.Duration(t.RefreshExpiresIn) * time.Second
	return now.Before(t.Acquired.Add(life - expiryMargin(life)))
}

// tokenAnswer is the JSON of a token endpoint (RFC 6749 §5.1, plus
// KeyCloak's refresh_expires_in) or of its error (§5.2).
type tokenAnswer struct {
	AccessToken      string      `json:"access_token"`
	TokenType        string      `json:"token_type"`
	RefreshToken     string      `json:"refresh_token"`
	IDToken          string      `json:"id_token"`
	Scope            string      `json:"scope"`
	ExpiresIn        json.Number `json:"expires_in"`
	RefreshExpiresIn json.Number `json:"refresh_expires_in"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
}

func seconds(n json.Number) int64 {
	f, err := n.Float64()
	if err != nil {
		return 0
	}
	return int64(f)
}

// postToken calls the token endpoint. A confidential client authenticates
// with HTTP Basic (RFC 6749 §2.3.1) and, if the provider refuses that,
// once more with the secret in the form, which is what the Python client
// sends and KeyCloak also accepts.
func postToken(ctx context.Context, hc *http.Client, endpoint string, form url.Values, clientID, secret string, now time.Time) (*Token, error) {
	if hc == nil {
		hc = defaultHTTP
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	grant := form.Get("grant_type")
	basic := secret != ""
	retried := false
	for {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if !basic {
			f.Set("client_id", clientID)
			if secret != "" {
				f.Set("client_secret", secret)
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(f.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		if basic {
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
				[]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secret))))
		}
		resp, err := hc.Do(req)
		if err != nil {
			// A kept-alive connection the provider cut (a restart) fails
			// the first request sent on it: try once on a new one.
			if !retried && ctx.Err() == nil {
				retried = true
				continue
			}
			return nil, &reachError{url: endpoint, err: err}
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, &reachError{url: endpoint, err: err}
		}
		var a tokenAnswer
		jsonErr := json.Unmarshal(body, &a)
		if resp.StatusCode == http.StatusOK && jsonErr == nil && a.AccessToken != "" && a.Error == "" {
			return &Token{
				AccessToken: a.AccessToken, TokenType: a.TokenType, RefreshToken: a.RefreshToken, IDToken: a.IDToken,
				Scope: a.Scope, ExpiresIn: seconds(a.ExpiresIn), RefreshExpiresIn: seconds(a.RefreshExpiresIn), Acquired: now,
			}, nil
		}
		if basic && a.Error == "invalid_client" {
			basic = false
			continue
		}
		reason := a.Error
		if a.ErrorDescription != "" {
			reason += ": " + a.ErrorDescription
		}
		if reason == "" {
			reason = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		return nil, &AuthError{Status: resp.StatusCode, Text: fmt.Sprintf("the identity provider refused the %s grant (%s)", grant, reason),
			Err: grantError(a.Error)}
	}
}

// errInvalidGrant marks a refresh token or code the provider no longer
// accepts: a new login (or grant) is the way on.
var errInvalidGrant = errors.New("invalid_grant")

func grantError(code string) error {
	if code == "invalid_grant" {
		return errInvalidGrant
	}
	return nil
}

// ClientCredentials gets a token with the client_credentials grant.
func ClientCredentials(ctx context.Context, hc *http.Client, ep *Endpoints, clientID, secret string, scopes ...string) (*Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	return postToken(ctx, hc, ep.Token, form, clientID, secret, time.Now())
}

func refreshToken(ctx context.Context, hc *http.Client, ep *Endpoints, clientID, secret, refresh string, now time.Time) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	t, err := postToken(ctx, hc, ep.Token, form, clientID, secret, now)
	if err == nil && t.RefreshToken == "" {
		// Providers that do not rotate refresh tokens send none back.
		t.RefreshToken = refresh
	}
	return t, err
}
