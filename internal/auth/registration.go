package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RegisteredClient is the client a user registered, as we keep it. The
// secret is never kept; the registration access token only sealed.
type RegisteredClient struct {
	ClientID        string
	RegistrationURI string
	SealedToken     string // the registration access token, sealed
	Created         time.Time
}

// ClientStore keeps one registered client per user.
type ClientStore interface {
	ClientOwners
	RegisteredClient(ctx context.Context, user string) (RegisteredClient, bool, error)
	SaveClient(ctx context.Context, user string, c RegisteredClient) error
	DeleteClient(ctx context.Context, user string) error
}

// Registration modes.
const (
	RegisterRFC7591         = "openid-connect" // RFC 7591/7592; KeyCloak's clients-registrations/openid-connect
	RegisterKeycloakDefault = "default"        // KeyCloak's clients-registrations/default (ClientRepresentation)
)

// Registrar registers a confidential client-credentials client for a user
// with the provider's registration API.
type Registrar struct {
	Provider *Provider
	Mode     string // RegisterRFC7591 (default) or RegisterKeycloakDefault
	// InitialAccessToken authorises registration (KeyCloak's realm initial
	// access token); empty for providers that allow anonymous registration.
	InitialAccessToken string
	Store              ClientStore
	Sealer             *Sealer
	HTTP               *http.Client
}

const ratPurpose = "registration-access-token"

// Credentials are a newly issued client id and secret, shown once.
type Credentials struct {
	ClientID, ClientSecret string
}

func (g *Registrar) client() *http.Client {
	if g.HTTP != nil {
		return g.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second}
}

// Current returns the user's registered client, checking with the provider
// that it still exists (which also rotates the registration access token
// where the provider rotates it). ok is false when there is none.
func (g *Registrar) Current(ctx context.Context, user string) (RegisteredClient, bool, error) {
	rc, ok, err := g.Store.RegisteredClient(ctx, user)
	if err != nil || !ok {
		return rc, ok, err
	}
	rat, err := g.Sealer.Open(ratPurpose, rc.SealedToken)
	if err != nil {
		return rc, false, nil // sealed with another key: treat as gone
	}
	var answer map[string]any
	status, err := g.call(ctx, http.MethodGet, rc.RegistrationURI, string(rat), nil, &answer)
	if err != nil {
		return rc, true, err
	}
	switch {
	case status == http.StatusOK:
		if next := rotatedToken(answer); next != "" && next != string(rat) {
			rc.SealedToken = g.Sealer.Seal(ratPurpose, []byte(next))
			if err := g.Store.SaveClient(ctx, user, rc); err != nil {
				return rc, true, err
			}
		}
		return rc, true, nil
	case status == http.StatusNotFound || status == http.StatusUnauthorized:
		// Deleted at the provider, or our token was revoked: start afresh.
		return rc, false, g.Store.DeleteClient(ctx, user)
	}
	return rc, true, fmt.Errorf("%w: reading the registered client answered %d", ErrUnavailable, status)
}

// Register creates a client for user and returns its credentials.
func (g *Registrar) Register(ctx context.Context, user string) (Credentials, error) {
	e, err := g.Provider.Endpoints(ctx)
	if err != nil {
		return Credentials{}, err
	}
	var endpoint string
	var body map[string]any
	if g.Mode == RegisterKeycloakDefault {
		endpoint = e.Issuer + "/clients-registrations/default"
		body = map[string]any{
			"clientId": "compute-wps-" + sanitize(user) + "-" + randomString(6), "name": "ComputeWPS client of " + user,
			"serviceAccountsEnabled": true, "standardFlowEnabled": false, "publicClient": false,
			"authorizationServicesEnabled": false, "consentRequired": false,
		}
	} else {
		endpoint = e.Registration
		if endpoint == "" {
			return Credentials{}, fmt.Errorf("%w: the provider advertises no registration endpoint", ErrUnavailable)
		}
		body = map[string]any{
			"client_name":                "ComputeWPS client of " + user,
			"grant_types":                []string{"client_credentials"},
			"response_types":             []string{},
			"token_endpoint_auth_method": "client_secret_basic",
		}
	}
	var answer map[string]any
	status, err := g.call(ctx, http.MethodPost, endpoint, g.InitialAccessToken, body, &answer)
	if err != nil {
		return Credentials{}, err
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return Credentials{}, &Error{Status: http.StatusBadGateway, Text: fmt.Sprintf("the identity provider refused to register a client (%d %s)", status, describe(answer))}
	}
	creds, rc := parseRegistration(answer, endpoint)
	if creds.ClientID == "" || creds.ClientSecret == "" {
		return Credentials{}, &Error{Status: http.StatusBadGateway, Text: "the identity provider's registration answer lacks the client id or secret"}
	}
	rc.Created = time.Now().UTC()
	if err := g.Store.SaveClient(ctx, user, rc.seal(g.Sealer)); err != nil {
		return Credentials{}, err
	}
	return creds, nil
}

// Replace retires the user's client at the provider and registers a new
// one, so the old secret stops working and a new one is shown once.
func (g *Registrar) Replace(ctx context.Context, user string) (Credentials, error) {
	if rc, ok, err := g.Store.RegisteredClient(ctx, user); err == nil && ok {
		if rat, err := g.Sealer.Open(ratPurpose, rc.SealedToken); err == nil {
			status, err := g.call(ctx, http.MethodDelete, rc.RegistrationURI, string(rat), nil, nil)
			if err != nil {
				return Credentials{}, err
			}
			if status >= 500 {
				return Credentials{}, fmt.Errorf("%w: deleting the old client answered %d", ErrUnavailable, status)
			}
		}
		if err := g.Store.DeleteClient(ctx, user); err != nil {
			return Credentials{}, err
		}
	} else if err != nil {
		return Credentials{}, err
	}
	return g.Register(ctx, user)
}

type pendingClient struct {
	RegisteredClient
	rat string
}

func (p pendingClient) seal(s *Sealer) RegisteredClient {
	rc := p.RegisteredClient
	rc.SealedToken = s.Seal(ratPurpose, []byte(p.rat))
	return rc
}

// parseRegistration reads both answer shapes: RFC 7591 and KeyCloak's
// ClientRepresentation.
func parseRegistration(a map[string]any, endpoint string) (Credentials, pendingClient) {
	str := func(keys ...string) string {
		for _, k := range keys {
			if s, ok := a[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
	c := Credentials{ClientID: str("client_id", "clientId"), ClientSecret: str("client_secret", "secret")}
	p := pendingClient{rat: str("registration_access_token", "registrationAccessToken")}
	p.ClientID = c.ClientID
	p.RegistrationURI = str("registration_client_uri")
	if p.RegistrationURI == "" && c.ClientID != "" {
		p.RegistrationURI = strings.TrimRight(endpoint, "/") + "/" + url.PathEscape(c.ClientID)
	}
	return c, p
}

func rotatedToken(a map[string]any) string {
	for _, k := range []string{"registration_access_token", "registrationAccessToken"} {
		if s, ok := a[k].(string); ok {
			return s
		}
	}
	return ""
}

func describe(a map[string]any) string {
	e, _ := a["error"].(string)
	d, _ := a["error_description"].(string)
	return strings.TrimSpace(e + " " + d)
}

// call sends one JSON request with a bearer token; a transport failure or
// a 5xx is ErrUnavailable, other statuses are returned.
func (g *Registrar) call(ctx context.Context, method, endpoint, bearer string, body, answer any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := g.client().Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, redactURLError(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 500 {
		return resp.StatusCode, fmt.Errorf("%w: the registration API answered %s", ErrUnavailable, resp.Status)
	}
	if answer != nil && len(b) > 0 {
		_ = json.Unmarshal(b, answer)
	}
	return resp.StatusCode, nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// LoopbackRedirect accepts a redirect_uri only if it points at the user's
// own machine (http on 127.0.0.1, [::1] or localhost), where a program of
// theirs waits for the credentials.
func LoopbackRedirect(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return nil, errors.New("redirect_uri must be an http URL on 127.0.0.1, [::1] or localhost")
	}
	host := u.Hostname()
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return nil, errors.New("redirect_uri must be an http URL on 127.0.0.1, [::1] or localhost")
		}
	}
	if p := u.Port(); p == "" {
		return nil, errors.New("redirect_uri must name a port")
	}
	return u, nil
}
