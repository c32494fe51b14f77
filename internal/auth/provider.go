package auth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Endpoints are what OIDC discovery tells us about the provider.
type Endpoints struct {
	Issuer        string
	Authorization string
	Token         string
	Introspection string
	Registration  string
	Revocation    string
	EndSession    string
	oidc          *oidc.Provider
}

// Provider discovers the identity provider's endpoints from its issuer
// URL, lazily and again after a failure, so the server starts and serves
// public requests while the provider is down and recovers by itself.
type Provider struct {
	Issuer string
	// IntrospectionURL overrides the discovered endpoint (Hydra serves it
	// only on its admin port and does not advertise it).
	IntrospectionURL string
	RegistrationURL  string // overrides the discovered registration endpoint
	HTTP             *http.Client
	RetryAfter       time.Duration // wait between failed discoveries; default 5 s

	mu       sync.Mutex
	found    *Endpoints
	lastErr  error
	lastTry  time.Time
	inflight chan struct{}
}

// KeycloakIssuer is the issuer of a KeyCloak realm; base may end in /auth.
func KeycloakIssuer(base, realm string) string { return base + "/realms/" + realm }

func (p *Provider) client() *http.Client {
	if p.HTTP != nil {
		return p.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// Endpoints returns the discovered endpoints or an error wrapping
// ErrUnavailable.
func (p *Provider) Endpoints(ctx context.Context) (*Endpoints, error) {
	p.mu.Lock()
	if p.found != nil {
		defer p.mu.Unlock()
		return p.found, nil
	}
	retry := p.RetryAfter
	if retry == 0 {
		retry = 5 * time.Second
	}
	if p.lastErr != nil && time.Since(p.lastTry) < retry {
		defer p.mu.Unlock()
		return nil, p.lastErr
	}
	if p.inflight != nil { // someone else is asking; wait for them
		ch := p.inflight
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
		}
		return p.Endpoints(ctx)
	}
	ch := make(chan struct{})
	p.inflight = ch
	p.mu.Unlock()

	found, err := p.discover(ctx)

	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight = nil
	close(ch)
	p.lastTry = time.Now()
	if err != nil {
		p.lastErr = fmt.Errorf("%w: discovery at %s failed: %v", ErrUnavailable, p.Issuer, redactURLError(err))
		return nil, p.lastErr
	}
	p.found, p.lastErr = found, nil
	return found, nil
}

func (p *Provider) discover(ctx context.Context) (*Endpoints, error) {
	ctx = oidc.ClientContext(ctx, p.client())
	op, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		return nil, err
	}
	var extra struct {
		Introspection string `json:"introspection_endpoint"`
		Registration  string `json:"registration_endpoint"`
		Revocation    string `json:"revocation_endpoint"`
		EndSession    string `json:"end_session_endpoint"`
	}
	if err := op.Claims(&extra); err != nil {
		return nil, err
	}
	e := &Endpoints{
		Issuer: p.Issuer, Authorization: op.Endpoint().AuthURL, Token: op.Endpoint().TokenURL,
		Introspection: extra.Introspection, Registration: extra.Registration, Revocation: extra.Revocation,
		EndSession: extra.EndSession, oidc: op,
	}
	if p.IntrospectionURL != "" {
		e.Introspection = p.IntrospectionURL
	}
	if p.RegistrationURL != "" {
		e.Registration = p.RegistrationURL
	}
	return e, nil
}

// IntrospectionEndpoint is an Introspector's Endpoint function.
func (p *Provider) IntrospectionEndpoint(ctx context.Context) (string, error) {
	e, err := p.Endpoints(ctx)
	if err != nil {
		return "", err
	}
	if e.Introspection == "" {
		return "", fmt.Errorf("%w: the provider advertises no introspection endpoint; set AUTH_INTROSPECTION_URL", ErrUnavailable)
	}
	return e.Introspection, nil
}
