package authtest

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// PKCE is an RFC 7636 verifier and its S256 challenge.
type PKCE struct{ Verifier, Challenge string }

// NewPKCE makes a fresh verifier.
func NewPKCE() PKCE {
	v := strings.ToLower(randomString() + randomString()) // 52 unreserved characters
	sum := sha256.Sum256([]byte(v))
	return PKCE{Verifier: v, Challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

const callbackPage = `<!DOCTYPE html><html><body><p id="done">Authentication complete; you may close this window.</p></body></html>`

// Callback is a one-page loopback web server that receives an authorization
// redirect, as the cwt client's does on 127.0.0.1:8888.
type Callback struct {
	// URL is http://127.0.0.1:<port>, with no path and no trailing slash,
	// exactly as cwt sends it as redirect_uri.
	URL string
	got chan url.Values
}

// ListenCallback listens on addr ("127.0.0.1:0" for a free port) until
// tb.Cleanup. Every request's query is delivered to Wait; the browser gets
// a page with a #done element.
func ListenCallback(tb testing.TB, addr string) *Callback {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	must(tb, err, "listen %s", addr)
	c := &Callback{URL: "http://" + ln.Addr().String(), got: make(chan url.Values, 16)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		select {
		case c.got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, callbackPage)
	})}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return c
}

// Wait returns the query of the next redirect, failing the test after
// timeout.
func (c *Callback) Wait(tb testing.TB, timeout time.Duration) url.Values {
	tb.Helper()
	select {
	case q := <-c.got:
		return q
	case <-time.After(timeout):
		tb.Fatalf("authtest: no redirect to %s within %v", c.URL, timeout)
		return nil
	}
}

var formAction = regexp.MustCompile(`<form id="kc-form-login"[^>]*action="([^"]*)"`)

// HTTPLogin is a browser in Go: starting at startURL (a provider's
// authorization URL, or a page of the server under test that redirects
// there) it follows redirects with client (which needs a cookie jar: both
// providers set cookies across the flow), submits the login form as
// username, and returns the first redirect that leaves the provider, not
// followed. With Config.AutoLogin no form is shown.
func (p *Provider) HTTPLogin(tb testing.TB, client *http.Client, startURL, username string) *url.URL {
	tb.Helper()
	if client.Jar == nil {
		tb.Fatalf("authtest: HTTPLogin needs a client with a cookie jar")
	}
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 20 {
			return errors.New("too many redirects")
		}
		if p.hosts[via[len(via)-1].URL.Host] && !p.hosts[req.URL.Host] {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(startURL)
	for range 2 { // the login form (unless skipped), then the redirect out
		must(tb, err, "login at %s", startURL)
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			resp.Body.Close()
			u, err := resp.Request.URL.Parse(loc)
			must(tb, err, "redirect %q", loc)
			return u
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := formAction.FindSubmatch(page)
		if m == nil {
			tb.Fatalf("authtest: %s answered %d without a login form or a redirect:\n%s", resp.Request.URL, resp.StatusCode, page)
		}
		if strings.Contains(string(page), `id="input-error"`) {
			tb.Fatalf("authtest: login as %q refused:\n%s", username, page)
		}
		action, err := resp.Request.URL.Parse(html.UnescapeString(string(m[1])))
		must(tb, err, "form action")
		resp, err = c.PostForm(action.String(), url.Values{
			"username": {username}, "password": {p.users[username].Password}, "login_challenge": {hiddenValue(page, "login_challenge")},
		})
	}
	tb.Fatalf("authtest: login as %q did not finish", username)
	return nil
}

func hiddenValue(page []byte, name string) string {
	re := regexp.MustCompile(fmt.Sprintf(`name="%s" value="([^"]*)"`, regexp.QuoteMeta(name)))
	if m := re.FindSubmatch(page); m != nil {
		return html.UnescapeString(string(m[1]))
	}
	return ""
}
