package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ClientOwners maps the OAuth2 clients users registered through
// /wps/auth/client_registration/ back to those users, so that a
// client-credentials token belongs to the person, not to the client.
type ClientOwners interface {
	OwnerOfClient(ctx context.Context, clientID string) (user string, ok bool, err error)
}

// Policy is what a token must carry to be accepted at all: any of the
// fields left empty is not required.
type Policy struct {
	RealmRole  string // a KeyCloak realm role
	ClientRole string // "client:role", or "role" for the server's own client
	Scope      string // an OAuth2 scope
	// ServerClientID is the server's own client, for ClientRole without a client.
	ServerClientID string
}

// Check returns a 403 *Error naming what the token lacks.
func (p Policy) Check(info *TokenInfo) error {
	if p.RealmRole != "" && !has(info.RealmAccess.Roles, p.RealmRole) {
		return &Error{Status: http.StatusForbidden, Text: fmt.Sprintf("the access token lacks the realm role %q that this service requires", p.RealmRole)}
	}
	if p.ClientRole != "" {
		client, role, ok := strings.Cut(p.ClientRole, ":")
		if !ok {
			client, role = p.ServerClientID, p.ClientRole
		}
		if !has(info.ResourceAccess[client].Roles, role) {
			return &Error{Status: http.StatusForbidden, Text: fmt.Sprintf("the access token lacks the role %q of client %q that this service requires", role, client)}
		}
	}
	if p.Scope != "" && !info.HasScope(p.Scope) {
		return &Error{Status: http.StatusForbidden, Text: fmt.Sprintf("the access token lacks the scope %q that this service requires", p.Scope)}
	}
	return nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Bearer authenticates requests by their access token.
type Bearer struct {
	Introspector *Introspector
	Owners       ClientOwners
	Policy       Policy
	Decider      *Decider // optional per-process decisions
}

// serviceAccountPrefix is how KeyCloak names the user of a client's
// client-credentials tokens.
const serviceAccountPrefix = "service-account-"

// TokenFrom extracts the access token: Authorization: Bearer <token>, or the
// COMPUTE-TOKEN header old cwt clients send. ok is false when the request
// carries neither; err is set for a malformed Authorization header.
func TokenFrom(r *http.Request) (token string, ok bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, found := strings.Cut(strings.TrimSpace(h), " ")
		if !found || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
			return "", false, &Error{Status: http.StatusUnauthorized, Text: "the Authorization header must be \"Bearer <access token>\""}
		}
		return strings.TrimSpace(tok), true, nil
	}
	if tok := strings.TrimSpace(r.Header.Get("Compute-Token")); tok != "" {
		return tok, true, nil
	}
	return "", false, nil
}

// Authenticate implements Authenticator.
func (b *Bearer) Authenticate(r *http.Request) (Identity, error) {
	token, ok, err := TokenFrom(r)
	if err != nil {
		return Identity{}, err
	}
	if !ok {
		return Identity{}, &Error{Status: http.StatusUnauthorized, Text: "this request needs an access token: send the header Authorization: Bearer <access token>"}
	}
	return b.authenticateToken(r.Context(), token)
}

func (b *Bearer) authenticateToken(ctx context.Context, token string) (Identity, error) {
	info, err := b.Introspector.Introspect(ctx, token)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return Identity{}, &Error{Status: http.StatusServiceUnavailable, Text: "the identity provider could not be reached to check the access token; try again later", Cause: err}
		}
		return Identity{}, err
	}
	if !info.Active {
		return Identity{}, &Error{Status: http.StatusUnauthorized, Text: "the access token is not valid: it has expired, was revoked or is unknown"}
	}
	if err := b.Policy.Check(info); err != nil {
		return Identity{}, err
	}
	user, err := b.userOf(ctx, info)
	if err != nil {
		return Identity{}, err
	}
	if user == "" {
		return Identity{}, &Error{Status: http.StatusUnauthorized, Text: "the access token names no user"}
	}
	return Identity{User: user, token: token}, nil
}

// userOf maps a token to a stable user: the owner of a registered client,
// else the token's user name.
func (b *Bearer) userOf(ctx context.Context, info *TokenInfo) (string, error) {
	clients := []string{info.Client()}
	if name := info.Name(); strings.HasPrefix(name, serviceAccountPrefix) {
		clients = append(clients, strings.TrimPrefix(name, serviceAccountPrefix))
	}
	if b.Owners != nil {
		for _, c := range clients {
			if c == "" {
				continue
			}
			owner, ok, err := b.Owners.OwnerOfClient(ctx, c)
			if err != nil {
				return "", err
			}
			if ok {
				return owner, nil
			}
		}
	}
	return info.Name(), nil
}

// AllowProcess asks the provider (KeyCloak Authorization Services) whether
// the caller may execute a process, when decisions are configured.
func (b *Bearer) AllowProcess(ctx context.Context, id Identity, process string) error {
	if b.Decider == nil {
		return nil
	}
	ok, err := b.Decider.Allow(ctx, id.token, process+"#execute")
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return &Error{Status: http.StatusServiceUnavailable, Text: "the identity provider could not be reached for an authorization decision; try again later", Cause: err}
		}
		return err
	}
	if !ok {
		return &Error{Status: http.StatusForbidden, Text: fmt.Sprintf("you are not permitted to execute %s", process)}
	}
	return nil
}
