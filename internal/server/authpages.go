package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/computewps/computewps/internal/api"
	"github.com/computewps/computewps/internal/auth"
	"github.com/computewps/computewps/internal/web"
)

// handleAuth serves /wps/auth/...: the browser login and the client
// registration pages. They exist only when authentication is on.
func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request, rest string) error {
	if s.login == nil {
		return api.Errorf(http.StatusNotFound, "authentication is switched off on this server (AUTH_ENABLED=false): no login is needed")
	}
	setOperation(r, "Auth")
	switch strings.TrimSuffix(rest, "/") {
	case "login":
		return s.login.Start(w, r)
	case "oauth_callback":
		return s.login.Callback(w, r)
	case "logout":
		s.login.Logout(w, r)
		return web.Render(w, http.StatusOK, "error", web.Page{Title: "Signed out", Message: "You are signed out of ComputeWPS."})
	case "client_registration":
		return s.clientRegistration(w, r)
	}
	return api.Errorf(http.StatusNotFound, "no such page: %s", r.URL.Path)
}

// clientRegistration registers an OAuth2 client for the signed-in user and
// shows its id and secret once; later visits offer to replace the secret.
// An anonymous visit is redirected (302) to the login, which the cwt
// client relies on.
func (s *Server) clientRegistration(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			return &auth.Error{Status: http.StatusBadRequest, Text: "the form could not be read"}
		}
		q = r.PostForm
	}
	deliver, state := q.Get("redirect_uri"), q.Get("state")
	if deliver != "" {
		u, err := auth.LoopbackRedirect(deliver)
		if err != nil {
			return web.Render(w, http.StatusBadRequest, "error", web.Page{Title: "Client registration", Message: err.Error() + "; got " + deliver})
		}
		deliver = u.String()
	}
	sess, ok := s.login.Session(r)
	if !ok {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return &auth.Error{Status: http.StatusUnauthorized, Text: "sign in first"}
		}
		next := s.urls.prefix() + r.URL.RequestURI()
		http.Redirect(w, r, s.urls.prefix()+auth.LoginPath+"?next="+url.QueryEscape(next), http.StatusFound)
		return nil
	}
	page := web.Page{Title: "Client registration", User: sess.User, CSRF: sess.CSRF, Deliver: deliver, State: state}
	if e, err := s.registrar.Provider.Endpoints(r.Context()); err == nil {
		page.TokenURL = e.Token
	}
	var creds auth.Credentials
	switch r.Method {
	case http.MethodPost:
		if subtle.ConstantTimeCompare([]byte(q.Get("csrf")), []byte(sess.CSRF)) != 1 || !s.sameOrigin(r) {
			return web.Render(w, http.StatusForbidden, "error", web.Page{Title: "Client registration", User: sess.User,
				Message: "This form did not come from this page (CSRF check failed). Reload the page and try again."})
		}
		var err error
		if creds, err = s.registrar.Replace(r.Context(), sess.User); err != nil {
			return s.registrationError(w, r, sess, err)
		}
		s.logFrom(r).Info("client secret replaced", "user", sess.User, "client_id", creds.ClientID)
	case http.MethodGet, http.MethodHead:
		current, exists, err := s.registrar.Current(r.Context(), sess.User)
		if err != nil {
			return s.registrationError(w, r, sess, err)
		}
		if exists {
			page.ClientID = current.ClientID
			return web.Render(w, http.StatusOK, "registered", page)
		}
		if creds, err = s.registrar.Register(r.Context(), sess.User); err != nil {
			return s.registrationError(w, r, sess, err)
		}
		s.logFrom(r).Info("client registered", "user", sess.User, "client_id", creds.ClientID)
	default:
		return methodNotAllowed(w, "GET, POST")
	}
	page.ClientID, page.ClientSecret = creds.ClientID, creds.ClientSecret
	if deliver != "" {
		page.ScriptNonce = randomToken()
	}
	return web.Render(w, http.StatusOK, "created", page)
}

func (s *Server) registrationError(w http.ResponseWriter, r *http.Request, sess auth.Session, err error) error {
	status, msg := http.StatusInternalServerError, "The client could not be registered because of an internal error."
	var ae *auth.Error
	switch {
	case errors.As(err, &ae):
		status, msg = ae.Status, ae.Text
	case errors.Is(err, auth.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, "The identity provider cannot be reached; try again later."
	}
	s.logFrom(r).Warn("client registration failed", "user", sess.User, "err", err)
	return web.Render(w, status, "error", web.Page{Title: "Client registration", User: sess.User, Message: msg})
}

// sameOrigin checks the Origin (or Referer) of a form post, when the
// browser sends one, against our own base URL.
func (s *Server) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return true
		}
		u, err := url.Parse(ref)
		if err != nil {
			return false
		}
		origin = u.Scheme + "://" + u.Host
	}
	base, err := url.Parse(s.cfg.BaseURL)
	if err != nil {
		return false
	}
	return strings.EqualFold(origin, base.Scheme+"://"+base.Host)
}
