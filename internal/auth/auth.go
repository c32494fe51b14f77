// Package auth decides who a request belongs to. This release has one
// mode: AUTH_ENABLED=false, where every request belongs to one anonymous
// user. Token introspection and browser login plug in behind the same
// Authenticator interface.
package auth

import (
	"net/http"
)

// Identity is the authenticated caller.
type Identity struct {
	User string // stable user name; the job store keys users by it
}

// Authenticator maps a request to an Identity, or returns an *Error.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// Error is an authentication or authorization failure.
type Error struct {
	Status int    // 401, 403 or 503
	Text   string // safe to show the caller
}

func (e *Error) Error() string { return e.Text }

// None is the AUTH_ENABLED=false authenticator.
type None struct{ User string }

// Authenticate implements Authenticator.
func (n None) Authenticate(*http.Request) (Identity, error) {
	return Identity{User: n.User}, nil
}
