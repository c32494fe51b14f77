// Package auth decides who a request belongs to and what it may do:
// AUTH_ENABLED=false (one anonymous user), or bearer tokens validated by
// RFC 7662 introspection at an OpenID Connect provider such as KeyCloak,
// with optional role, scope and per-process decisions; plus the browser
// login and the dynamic client registration pages.
package auth

import (
	"context"
	"net/http"
)

// Identity is the authenticated caller.
type Identity struct {
	User  string // stable user name; the job store keys users by it
	token string // the access token, for per-process decisions; never logged
}

// Authenticator maps a request to an Identity, or returns an *Error.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// ProcessAuthorizer is implemented by authenticators that can decide, per
// process, whether the caller may execute it.
type ProcessAuthorizer interface {
	AllowProcess(ctx context.Context, id Identity, process string) error
}

// Error is an authentication or authorization failure.
type Error struct {
	Status int    // 401, 403 or 503
	Text   string // safe to show the caller
	Cause  error  // for the log; never shown
}

func (e *Error) Error() string { return e.Text }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// None is the AUTH_ENABLED=false authenticator.
type None struct{ User string }

// Authenticate implements Authenticator.
func (n None) Authenticate(*http.Request) (Identity, error) {
	return Identity{User: n.User}, nil
}
