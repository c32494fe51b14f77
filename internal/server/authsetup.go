package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/computewps/computewps/internal/auth"
	"github.com/computewps/computewps/internal/config"
	"github.com/computewps/computewps/internal/jobs"
)

// AuthParts are the authentication components built from the configuration.
type AuthParts struct {
	Authenticator auth.Authenticator
	Login         *auth.Login
	Registrar     *auth.Registrar
	Introspector  *auth.Introspector // nil when authentication is off
}

// NewAuth builds the authentication of a server: one anonymous user when
// AUTH_ENABLED=false, else bearer tokens checked by introspection at the
// configured provider, browser login and client registration.
func NewAuth(cfg *config.Config, store *jobs.Store, httpClient *http.Client) (AuthParts, error) {
	if !cfg.AuthEnabled {
		return AuthParts{Authenticator: auth.None{User: cfg.AnonymousUserName}}, nil
	}
	key, err := auth.LoadKey(cfg.SecretKey, filepath.Join(cfg.DataPath, "auth.key"))
	if err != nil {
		return AuthParts{}, err
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		return AuthParts{}, err
	}
	prov := &auth.Provider{Issuer: cfg.Issuer(), IntrospectionURL: cfg.IntrospectionURL, RegistrationURL: cfg.RegistrationURL, HTTP: httpClient}
	intro := &auth.Introspector{
		Endpoint: prov.IntrospectionEndpoint, ClientID: cfg.KeycloakClientID, ClientSecret: cfg.KeycloakSecret,
		HTTP: httpClient, TTL: cfg.CacheTTL, InactiveTTL: cfg.InactiveCacheTTL,
	}
	clients := clientStore{store}
	bearer := &auth.Bearer{
		Introspector: intro, Owners: clients,
		Policy: auth.Policy{RealmRole: cfg.RequiredRealmRole, ClientRole: cfg.RequiredRole, Scope: cfg.RequiredScope, ServerClientID: cfg.KeycloakClientID},
	}
	if cfg.Decisions {
		bearer.Decider = &auth.Decider{Provider: prov, Audience: cfg.KeycloakClientID, HTTP: httpClient, TTL: cfg.CacheTTL}
	}
	return AuthParts{
		Authenticator: bearer,
		Introspector:  intro,
		Login: &auth.Login{Provider: prov, ClientID: cfg.KeycloakClientID, ClientSecret: cfg.KeycloakSecret,
			BaseURL: cfg.BaseURL, Sealer: sealer, SessionTTL: cfg.SessionTTL, HTTP: httpClient},
		Registrar: &auth.Registrar{Provider: prov, Mode: cfg.Registration, InitialAccessToken: cfg.RegAccessToken,
			Store: clients, Sealer: sealer, HTTP: httpClient},
	}, nil
}

// clientStore keeps registered clients in the job store.
type clientStore struct{ s *jobs.Store }

func (c clientStore) OwnerOfClient(ctx context.Context, clientID string) (string, bool, error) {
	return c.s.OwnerOfClient(ctx, clientID)
}

func (c clientStore) RegisteredClient(ctx context.Context, user string) (auth.RegisteredClient, bool, error) {
	rc, ok, err := c.s.RegisteredClient(ctx, user)
	return auth.RegisteredClient{ClientID: rc.ClientID, RegistrationURI: rc.RegistrationURI, SealedToken: rc.SealedToken, Created: rc.Created}, ok, err
}

func (c clientStore) SaveClient(ctx context.Context, user string, rc auth.RegisteredClient) error {
	if rc.ClientID == "" {
		return fmt.Errorf("a registered client needs an id")
	}
	return c.s.SaveClient(ctx, user, jobs.Client{ClientID: rc.ClientID, RegistrationURI: rc.RegistrationURI, SealedToken: rc.SealedToken, Created: rc.Created})
}

func (c clientStore) DeleteClient(ctx context.Context, user string) error {
	return c.s.DeleteClient(ctx, user)
}
