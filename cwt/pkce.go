package cwt

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultRedirectPort is where the Python client, and KeyCloak clients set
// up for it, expect the login to come back: http://127.0.0.1:8888.
const DefaultRedirectPort = 8888

// PKCELogin logs a user in with the authorization code flow and PKCE
// (S256), as a native application: it opens (or prints) the provider's
// login page and receives the answer on a one-shot listener on 127.0.0.1.
type PKCELogin struct {
	Endpoints *Endpoints // nil: discovered from Issuer
	Issuer    string
	ClientID  string   // a public client whose redirect URI is http://127.0.0.1:<Port>
	Scopes    []string // default: openid
	Port      int      // 0 means DefaultRedirectPort
	// OpenBrowser shows the login page; nil, or an error from it, leaves the
	// printed address for the user to open.
	OpenBrowser func(url string) error
	Out         io.Writer     // where the address is printed; nil means stderr
	Timeout     time.Duration // for the user to log in; 0 means 5 minutes
	HTTPClient  *http.Client
}

// RedirectURI is the redirect_uri sent: no path and no trailing slash, as
// the Python client sends it.
func (l *PKCELogin) RedirectURI() string {
	port := l.Port
	if port == 0 {
		port = DefaultRedirectPort
	}
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// Login runs the flow and returns the token.
func (l *PKCELogin) Login(ctx context.Context) (*Token, error) {
	if l.ClientID == "" {
		return nil, &AuthError{Text: "a PKCE login needs the client id of a public client"}
	}
	ep := l.Endpoints
	if ep == nil {
		var err error
		if ep, err = Discover(ctx, l.HTTPClient, l.Issuer); err != nil {
			return nil, err
		}
	}
	if ep.Authorization == "" {
		return nil, &AuthError{Text: "the identity provider has no authorization endpoint"}
	}
	port := l.Port
	if port == 0 {
		port = DefaultRedirectPort
	}
	state, verifier := randomToken(), randomToken()
	cb, err := listenCallback(port, state)
	if err != nil {
		return nil, err
	}
	defer cb.close()

	sum := sha256.Sum256([]byte(verifier))
	scopes := l.Scopes
	if len(scopes) == 0 {
		scopes = []string{"openid"}
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {l.ClientID},
		"redirect_uri":          {l.RedirectURI()},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
		"scope":                 {strings.Join(scopes, " ")},
	}
	authURL := ep.Authorization
	if strings.Contains(authURL, "?") {
		authURL += "&" + q.Encode()
	} else {
		authURL += "?" + q.Encode()
	}

	out := l.Out
	if out == nil {
		out = os.Stderr
	}
	opened := l.OpenBrowser != nil && l.OpenBrowser(authURL) == nil
	if opened {
		fmt.Fprintf(out, "A browser window is open to log in. If it did not open, visit:\n\n  %s\n\n", authURL)
	} else {
		fmt.Fprintf(out, "Open this address in a browser to log in:\n\n  %s\n\n", authURL)
	}
	fmt.Fprintf(out, "Waiting for the login to come back to %s ...\n", l.RedirectURI())

	timeout := l.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	code, err := cb.wait(wctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, &AuthError{Text: fmt.Sprintf("no login came back within %v", timeout),
				Hint: "open the address above in a browser on this computer, or log in with the client credentials instead"}
		}
		return nil, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {l.RedirectURI()}, "code_verifier": {verifier}}
	return postToken(ctx, l.HTTPClient, ep.Token, form, l.ClientID, "", time.Now())
}

// randomToken is 32 random bytes, base64url: a state, or a PKCE verifier
// (43 characters of the unreserved set, RFC 7636 §4.1).
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// callback is the one-shot web server that receives the authorization
// response. It listens on 127.0.0.1 only, answers the browser with a page
// that says what happened, and keeps waiting through requests that are not
// the answer: a favicon, another path, a state from another login.
type callback struct {
	ln     net.Listener
	srv    *http.Server
	state  string
	result chan callbackResult
}

type callbackResult struct {
	code string
	err  error
}

func listenCallback(port int, state string) (*callback, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		hint := "choose another port (the provider must allow http://127.0.0.1:<port> as a redirect URI)"
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &AuthError{Text: fmt.Sprintf("port %d on 127.0.0.1 is already in use (another login?)", port), Hint: hint}
		}
		return nil, &AuthError{Text: fmt.Sprintf("cannot listen on %s for the login", addr), Err: err, Hint: hint}
	}
	cb := &callback{ln: ln, state: state, result: make(chan callbackResult, 1)}
	cb.srv = &http.Server{Handler: http.HandlerFunc(cb.serve), ReadHeaderTimeout: 10 * time.Second}
	go cb.srv.Serve(ln)
	return cb, nil
}

func (cb *callback) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	state, code, errCode := q.Get("state"), q.Get("code"), q.Get("error")
	if state == "" && code == "" && errCode == "" {
		page(w, http.StatusOK, "Waiting for the login", "cwt is waiting for the identity provider to send the login here.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(cb.state)) != 1 {
		// Not the answer to this login (an old tab, or a forged link): it
		// must neither complete nor abort the login under way.
		page(w, http.StatusBadRequest, "Login not accepted",
			"This answer does not belong to the login cwt is waiting for (the state does not match). "+
				"Use the address cwt printed most recently, or start again with cwt login.")
		return
	}
	var res callbackResult
	switch {
	case errCode != "":
		reason := errCode
		if d := q.Get("error_description"); d != "" {
			reason += ": " + d
		}
		res.err = &AuthError{Text: "the identity provider refused the login (" + reason + ")"}
		page(w, http.StatusOK, "Login failed", "The identity provider refused the login: "+reason+". You can close this window; cwt has stopped waiting.")
	case code == "":
		page(w, http.StatusBadRequest, "Login not accepted", "The answer has no authorization code.")
		return
	default:
		res.code = code
		page(w, http.StatusOK, "Logged in", "You are logged in to cwt. You can close this window.")
	}
	select {
	case cb.result <- res:
	default: // a second answer with the right state: the first one counts
	}
}

func (cb *callback) wait(ctx context.Context) (string, error) {
	select {
	case res := <-cb.result:
		return res.code, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (cb *callback) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Shutdown lets the browser receive the page it was just sent.
	_ = cb.srv.Shutdown(ctx)
}

func page(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s</title></head>`+
		`<body style="font-family:sans-serif;margin:3em"><h1 id="title">%s</h1><p id="message">%s</p></body></html>`,
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(message))
}
