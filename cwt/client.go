package cwt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds each request for a document when Client.Timeout
// is zero (the Python client had no timeout at all).
const DefaultTimeout = 60 * time.Second

// maxDocument bounds the documents read into memory; outputs are streamed.
const maxDocument = 16 << 20

// Client talks to one ComputeWPS (or LLNL Compute WPS) server: the WPS
// endpoint and the job API beside it. The zero value needs only URL.
type Client struct {
	// URL is the WPS endpoint, e.g. http://127.0.0.1:8000/wps.
	URL string
	// APIURL is the base of the job API, ending in "/". Empty: URL + "/api/"
	// when URL ends in /wps (so a path prefix is kept), otherwise
	// /wps/api/ at the host root, as the Python client assumes.
	APIURL string
	// Timeout bounds each request for a document (not the downloads of
	// output files, which only the context bounds); 0 means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends every request; nil means a client whose connections
	// and response headers time out, and whose bodies do not.
	HTTPClient *http.Client
	// Auth authenticates Execute, status documents and the job API. It is
	// only used for URLs of the server's origin and those the server gave
	// (status locations, job links), never for output files, so a token
	// goes nowhere the server did not send it.
	Auth Authenticator
	// UserAgent is sent with every request; empty means "cwt-go".
	UserAgent string
}

// NewClient returns a client of the WPS endpoint wpsURL.
func NewClient(wpsURL string) *Client { return &Client{URL: wpsURL} }

var defaultHTTP = newHTTPClient()

func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 2 * DefaultTimeout
	return &http.Client{Transport: t}
}

func (c *Client) http() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTP
}

// apiBase returns the job API base URL, ending in "/".
func (c *Client) apiBase() (string, error) {
	if c.APIURL != "" {
		return strings.TrimSuffix(c.APIURL, "/") + "/", nil
	}
	u, err := c.wpsURL()
	if err != nil {
		return "", err
	}
	p := strings.TrimSuffix(u.Path, "/")
	if strings.HasSuffix(p, "/wps") {
		u.Path = p + "/api/"
	} else {
		u.Path = "/wps/api/"
	}
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	return u.String(), nil
}

// serverRoot is the URL under which /wps/... lives: the WPS URL without
// its trailing /wps.
func (c *Client) serverRoot() (string, error) {
	u, err := c.wpsURL()
	if err != nil {
		return "", err
	}
	p := strings.TrimSuffix(u.Path, "/")
	u.Path = strings.TrimSuffix(p, "/wps")
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	return strings.TrimSuffix(u.String(), "/"), nil
}

func (c *Client) wpsURL() (*url.URL, error) {
	if c.URL == "" {
		return nil, errors.New("no server URL")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q is not an http(s) URL such as http://127.0.0.1:8000/wps", c.URL)
	}
	return u, nil
}

// sameOrigin reports whether target is on the server's scheme, host and
// port: only those requests carry credentials.
func (c *Client) sameOrigin(target string) bool {
	base, err := c.wpsURL()
	if err != nil {
		return false
	}
	t, err := url.Parse(target)
	if err != nil {
		return false
	}
	return strings.EqualFold(t.Scheme, base.Scheme) && strings.EqualFold(t.Host, base.Host)
}

type authMode int

const (
	authNone     authMode = iota // never (output files)
	authOnDemand                 // only after an anonymous 401 (public documents)
	authAlways                   // Execute, status, job API
)

type request struct {
	method, url string
	body        []byte
	contentType string
	accept      string
	auth        authMode
	// fromServer marks a URL the server itself gave (a status location, a
	// link of the job API): it gets the credentials even on another origin
	// (a proxy's, say), since the server already has them.
	fromServer bool
}

// send performs r, authenticating as its mode says, and retries once with
// a new token when the server refuses one that may be stale. The caller
// closes the body.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	trusted := r.fromServer || c.sameOrigin(r.url)
	useAuth := r.auth == authAlways && c.Auth != nil && trusted
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(r.body))
		if err != nil {
			return nil, err
		}
		if r.body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		if r.accept != "" {
			req.Header.Set("Accept", r.accept)
		}
		ua := c.UserAgent
		if ua == "" {
			ua = "cwt-go"
		}
		req.Header.Set("User-Agent", ua)
		if useAuth {
			if err := c.Auth.Authorize(ctx, req); err != nil {
				return nil, err
			}
		}
		resp, err := c.http().Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			return nil, &reachError{url: r.url, err: err}
		}
		if resp.StatusCode != http.StatusUnauthorized || attempt > 0 || c.Auth == nil || !trusted {
			return resp, nil
		}
		switch {
		case !useAuth && r.auth == authOnDemand:
			useAuth = true
		case useAuth:
			rt, ok := c.Auth.(Retrier)
			if !ok || !rt.Refused(req) {
				return resp, nil
			}
		default:
			return resp, nil
		}
		resp.Body.Close()
	}
}

// fetch performs r and reads the whole answer, within Timeout.
func (c *Client) fetch(ctx context.Context, r request) (*http.Response, []byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, &reachError{url: r.url, err: fmt.Errorf("no answer within %v", timeout)})
	defer cancel()
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading the answer: %w", r.method, r.url, err)
	}
	if len(body) > maxDocument {
		return nil, nil, fmt.Errorf("%s %s: the answer is larger than %d bytes", r.method, r.url, maxDocument)
	}
	return resp, body, nil
}

// answerError turns an unsuccessful answer into *ServerError, *AuthError
// or *HTTPError.
func answerError(method, u string, resp *http.Response, body []byte) error {
	var err error
	if isXML(resp.Header.Get("Content-Type"), body) {
		if se := parseExceptionReport(body); se != nil {
			se.HTTPStatus = resp.StatusCode
			err = se
		}
	}
	if err == nil {
		detail := problemDetail(body)
		err = &HTTPError{Method: method, URL: u, Status: resp.StatusCode, Detail: detail}
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		text := "the server refused the credentials"
		if resp.StatusCode == http.StatusForbidden {
			text = "the server refused access"
		}
		if resp.StatusCode == http.StatusUnauthorized && resp.Request != nil && resp.Request.Header.Get("Authorization") == "" {
			text = "the server needs an access token"
		}
		reason := ""
		var se *ServerError
		var he *HTTPError
		switch {
		case errors.As(err, &se):
			reason = se.Text
		case errors.As(err, &he):
			reason = he.Detail
		}
		if reason != "" {
			text += " (" + reason + ")"
		}
		return &AuthError{Status: resp.StatusCode, Text: text}
	}
	return err
}

// problemDetail takes the message of a JSON problem ({"detail": …}), or
// the start of a text body.
func problemDetail(body []byte) string {
	var p struct {
		Detail string `json:"detail"`
		Title  string `json:"title"`
	}
	if json.Unmarshal(body, &p) == nil && (p.Detail != "" || p.Title != "") {
		if p.Detail != "" {
			return p.Detail
		}
		return p.Title
	}
	s := strings.TrimSpace(string(body))
	if strings.HasPrefix(s, "<") { // HTML: not worth showing
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func isXML(contentType string, body []byte) bool {
	ct := strings.ToLower(contentType)
	if strings.Contains(ct, "xml") {
		return true
	}
	return bytes.HasPrefix(bytes.TrimSpace(body), []byte("<?xml"))
}

// reachError is a request that got no answer: the server is down, the
// address is wrong, or the network failed.
type reachError struct {
	url string
	err error
}

func (e *reachError) Error() string {
	host := e.url
	if u, err := url.Parse(e.url); err == nil {
		host = u.Scheme + "://" + u.Host
	}
	return "cannot reach " + host + ": " + rootCause(e.err).Error()
}

func (e *reachError) Unwrap() error { return e.err }

// rootCause drops the "Get \"url\": " wrappers of net/http, whose URL the
// message already names.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// IsUnreachable reports whether err is a request that got no answer.
func IsUnreachable(err error) bool {
	var re *reachError
	return errors.As(err, &re)
}
