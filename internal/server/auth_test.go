package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/computewps/computewps/internal/auth/authtest"
)

// The tests of this file run the server against real OAuth2/OIDC providers
// on loopback: oidc-provider set up like KeyCloak, and Ory Hydra.

type provider struct {
	name  string
	start func(tb testing.TB, cfg authtest.Config) *authtest.Provider
	// settings configures the server for the provider.
	settings func(p *authtest.Provider) map[string]string
}

var providers = []provider{
	{"keycloak-like", authtest.StartOIDCProvider, func(p *authtest.Provider) map[string]string {
		return map[string]string{
			"AUTH_KEYCLOAK_URL": p.KeycloakURL, "AUTH_KEYCLOAK_REALM": p.Realm,
			"AUTH_KEYCLOAK_REG_ACCESS_TOKEN": p.InitialAccessToken,
		}
	}},
	{"hydra", authtest.StartHydra, func(p *authtest.Provider) map[string]string {
		return map[string]string{
			"AUTH_OIDC_ISSUER": p.Issuer, "AUTH_INTROSPECTION_URL": p.IntrospectionURL,
			"AUTH_REGISTRATION_URL": p.RegistrationURL,
		}
	}},
}

// startAuth runs the server with authentication against p, and registers
// the server's login callback with p.
func startAuth(t *testing.T, pv provider, p *authtest.Provider, extra map[string]string) *env {
	t.Helper()
	settings := pv.settings(p)
	settings["AUTH_ENABLED"] = "true"
	settings["AUTH_KEYCLOAK_CLIENT_ID"] = p.ServerClient.ID
	settings["AUTH_KEYCLOAK_CLIENT_SECRET"] = p.ServerClient.Secret
	settings["AUTH_CACHE_TTL"] = "1s"
	settings["AUTH_INACTIVE_CACHE_TTL"] = "1s"
	for k, v := range extra {
		settings[k] = v
	}
	e := start(t, settings)
	c := p.ServerClient
	c.RedirectURIs = []string{e.url + "/wps/auth/oauth_callback"}
	p.SetClient(t, c)
	return e
}

// subsetXML is a small Execute on the sample data.
func (e *env) subsetXML() string {
	v := fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, e.fileURI("tas_day_2000.nc"))
	return executeXML("CDAT.subset", v, `[{"id": "d", "time": {"start": 0, "end": 1, "crs": "indices"}}]`,
		`[{"name": "CDAT.subset", "result": "s", "domain": "d", "input": ["v"]}]`, "")
}

// execute posts the subset with a token ("" for none) and returns the
// HTTP status and the parsed answer.
func (e *env) execute(token string) (int, doc) {
	e.t.Helper()
	var h []string
	if token != "" {
		h = []string{"Authorization", "Bearer " + token}
	}
	resp := e.do("POST", "/wps", strings.NewReader(e.subsetXML()), h...)
	status := resp.StatusCode
	d, _ := parseDoc(e.t, resp)
	return status, d
}

func (e *env) mustExecute(token string) string {
	e.t.Helper()
	status, d := e.execute(token)
	if status != 200 || d.StatusLocation == "" {
		e.t.Fatalf("Execute with a valid token: %d %+v", status, d.Exceptions)
	}
	return d.StatusLocation
}

func TestBearerTokens(t *testing.T) {
	for _, pv := range providers {
		t.Run(pv.name, func(t *testing.T) {
			p := pv.start(t, authtest.Config{})
			e := startAuth(t, pv, p, nil)

			// GetCapabilities and DescribeProcess stay public.
			if body := readBody(t, e.do("GET", "/wps?service=WPS&request=GetCapabilities", nil)); !strings.Contains(body, "CDAT.subset") {
				t.Errorf("anonymous GetCapabilities:\n%.500s", body)
			}
			if resp := e.do("GET", "/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=CDAT.subset", nil); resp.StatusCode != 200 {
				t.Errorf("anonymous DescribeProcess: %d", resp.StatusCode)
			}

			// No token, garbage, a malformed header: 401 with WWW-Authenticate and a reason.
			for _, c := range []struct{ header, want string }{
				{"", "needs an access token"},
				{"Bearer not-a-token", "not valid"},
				{"Basic YWxpY2U6cHc=", "must be \"Bearer <access token>\""},
			} {
				var h []string
				if c.header != "" {
					h = []string{"Authorization", c.header}
				}
				resp := e.do("POST", "/wps", strings.NewReader(e.subsetXML()), h...)
				if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%q: %d %q", c.header, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
				d, _ := parseDoc(t, resp)
				if len(d.Exceptions) != 1 || !strings.Contains(d.Exceptions[0].Text, c.want) {
					t.Errorf("%q: %+v, want %q", c.header, d.Exceptions, c.want)
				}
			}
			for _, path := range []string{"/wps/api/job/", "/wps/api/job/1/", "/wps/api/status/1/"} {
				resp := e.do("GET", path, nil)
				if resp.StatusCode != 401 || !strings.Contains(readBody(t, resp), "needs an access token") {
					t.Errorf("anonymous %s: %d", path, resp.StatusCode)
				}
			}

			// A client-credentials token: Execute, status and job API work.
			tok := p.ClientCredentialsToken(t, p.ServerClient.ID, p.ServerClient.Secret).AccessToken
			loc := e.mustExecute(tok)
			if d := e.wait(loc, "Authorization", "Bearer "+tok); d.state() != "ProcessSucceeded" {
				t.Fatalf("job: %+v", d.Status.Failed)
			}
			if resp := e.do("GET", strings.TrimPrefix(loc, e.url), nil); resp.StatusCode != 401 {
				t.Errorf("status document without a token: %d, want 401", resp.StatusCode)
			} else if d, _ := parseDoc(t, resp); len(d.Exceptions) != 1 {
				t.Errorf("status document without a token is not an ExceptionReport")
			}
			if list := readBody(t, e.do("GET", "/wps/api/job/", nil, "Authorization", "Bearer "+tok)); !strings.Contains(list, `"count":1`) {
				t.Errorf("job list with the token: %s", list)
			}
			// Old clients send COMPUTE-TOKEN.
			if list := readBody(t, e.do("GET", "/wps/api/job/", nil, "COMPUTE-TOKEN", tok)); !strings.Contains(list, `"count":1`) {
				t.Errorf("job list with COMPUTE-TOKEN: %s", list)
			}

			// Revoked: refused once the cached answer (AUTH_CACHE_TTL=1s) is gone.
			p.Revoke(t, tok, p.ServerClient.ID, p.ServerClient.Secret)
			time.Sleep(1100 * time.Millisecond)
			if status, d := e.execute(tok); status != 401 || !strings.Contains(d.Exceptions[0].Text, "expired, was revoked or is unknown") {
				t.Errorf("revoked token: %d %+v", status, d.Exceptions)
			}

			// The provider down: 503 with a clear message, never accepted.
			fresh := p.ClientCredentialsToken(t, p.ServerClient.ID, p.ServerClient.Secret).AccessToken
			p.Stop(t)
			status, d := e.execute(fresh)
			if status != 503 || !strings.Contains(d.Exceptions[0].Text, "identity provider could not be reached") {
				t.Errorf("provider down: %d %+v", status, d.Exceptions)
			}
			if resp := e.do("GET", "/wps/api/job/", nil, "Authorization", "Bearer "+fresh); resp.StatusCode != 503 {
				t.Errorf("job API with the provider down: %d", resp.StatusCode)
			}
			p.Start(t)
			e.mustExecute(fresh)
		})
	}
}

func TestExpiredToken(t *testing.T) {
	for _, pv := range providers {
		t.Run(pv.name, func(t *testing.T) {
			p := pv.start(t, authtest.Config{AccessTokenTTL: 2 * time.Second})
			e := startAuth(t, pv, p, map[string]string{"AUTH_CACHE_TTL": "5m"})
			tok := p.ClientCredentialsToken(t, p.ServerClient.ID, p.ServerClient.Secret).AccessToken
			e.mustExecute(tok)
			// Cached for 5 minutes, but never past the token's own expiry.
			time.Sleep(2500 * time.Millisecond)
			if status, d := e.execute(tok); status != 401 {
				t.Errorf("expired token: %d %+v", status, d.Exceptions)
			}
		})
	}
}

// TestRolesAndScopes requires a realm role, then a scope.
func TestRolesAndScopes(t *testing.T) {
	pv := providers[0]
	p := pv.start(t, authtest.Config{})
	e := startAuth(t, pv, p, map[string]string{"AUTH_REQUIRED_REALM_ROLE": "compute-user"})
	alice, bob := loginToken(t, p, "alice"), loginToken(t, p, "bob")
	e.mustExecute(alice)
	status, d := e.execute(bob)
	if status != 403 || !strings.Contains(d.Exceptions[0].Text, `lacks the realm role "compute-user"`) {
		t.Errorf("bob without the role: %d %+v", status, d.Exceptions)
	}
	e2 := startAuth(t, pv, p, map[string]string{"AUTH_REQUIRED_SCOPE": "wps"})
	if status, d := e2.execute(alice); status != 403 || !strings.Contains(d.Exceptions[0].Text, `lacks the scope "wps"`) {
		t.Errorf("token without the scope: %d %+v", status, d.Exceptions)
	}
}

// loginToken logs a user in as the native PKCE client would, with a Go
// browser, and returns the access token.
func loginToken(t *testing.T, p *authtest.Provider, user string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	pk := authtest.NewPKCE()
	redirect := "http://127.0.0.1:8888"
	u := p.HTTPLogin(t, &http.Client{Jar: jar, Timeout: 20 * time.Second}, p.AuthCodeURL(p.PublicClient.ID, redirect, "state-0123456789", pk, "openid", "profile"), user)
	code := u.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", u)
	}
	return p.ExchangeCode(t, p.PublicClient.ID, "", code, redirect, pk.Verifier).AccessToken
}

// TestJobsStayWithTheirOwner: one user never sees another's jobs, status
// documents or statuses.
func TestJobsStayWithTheirOwner(t *testing.T) {
	pv := providers[0]
	p := pv.start(t, authtest.Config{})
	e := startAuth(t, pv, p, nil)
	alice, bob := loginToken(t, p, "alice"), loginToken(t, p, "bob")
	loc := e.mustExecute(alice)
	e.wait(loc, "Authorization", "Bearer "+alice)
	id := jobID(t, loc)
	if resp := e.do("GET", "/wps/api/job/"+id+"/", nil, "Authorization", "Bearer "+bob); resp.StatusCode != 404 {
		t.Errorf("bob reads alice's job: %d", resp.StatusCode)
	}
	if d, body := parseDoc(t, e.do("GET", "/wps/api/job/"+id+".wps", nil, "Authorization", "Bearer "+bob)); d.state() != "ProcessFailed" || !strings.Contains(body, "does not exist") {
		t.Errorf("bob's status document of alice's job:\n%s", body)
	}
	if resp := e.do("DELETE", "/wps/api/job/"+id+"/", nil, "Authorization", "Bearer "+bob); resp.StatusCode != 404 {
		t.Errorf("bob deletes alice's job: %d", resp.StatusCode)
	}
	if list := readBody(t, e.do("GET", "/wps/api/job/", nil, "Authorization", "Bearer "+bob)); !strings.Contains(list, `"count":0`) {
		t.Errorf("bob's list: %s", list)
	}
	if list := readBody(t, e.do("GET", "/wps/api/job/", nil, "Authorization", "Bearer "+alice)); !strings.Contains(list, `"count":1`) {
		t.Errorf("alice's list: %s", list)
	}
}

// TestBrowserRegistration drives the client registration in headless
// Chromium: login at the provider, the id and secret shown once, a token
// from them accepted by the server as the same user, the secret never shown
// again, and its replacement delivered to a program on the loopback.
func TestBrowserRegistration(t *testing.T) {
	for _, pv := range providers {
		t.Run(pv.name, func(t *testing.T) {
			p := pv.start(t, authtest.Config{})
			e := startAuth(t, pv, p, nil)

			// The cwt client needs exactly 302 for an anonymous visit.
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := noFollow.Get(e.url + "/wps/auth/client_registration/")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/wps/auth/login?next=") {
				t.Fatalf("anonymous registration: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}

			ctx := authtest.NewBrowser(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/wps/auth/client_registration/")); err != nil {
				t.Fatal(err)
			}
			p.BrowserLogin(t, ctx, "alice")
			id, secret := readCredentials(t, ctx)
			if id == "" || secret == "" {
				t.Fatalf("client id %q secret %q", id, secret)
			}
			tok := p.ClientCredentialsToken(t, id, secret).AccessToken
			loc := e.mustExecute(tok)
			e.wait(loc, "Authorization", "Bearer "+tok)
			// The client's token belongs to alice: her own login sees the job.
			aliceLogin := loginToken(t, p, "alice")
			if list := readBody(t, e.do("GET", "/wps/api/job/", nil, "Authorization", "Bearer "+aliceLogin)); !strings.Contains(list, `"count":1`) {
				t.Errorf("alice's login does not see the job run with her registered client: %s", list)
			}

			// A second visit shows the client id but never the secret.
			page := visit(t, ctx, e.url+"/wps/auth/client_registration/", "#replace")
			if !strings.Contains(page, id) || strings.Contains(page, secret) || strings.Contains(page, `id="client_secret"`) {
				t.Errorf("second visit:\n%s", page)
			}

			// The replace form is CSRF-protected.
			if err := chromedp.Do(ctx, chromedp.SetValue(`input[name="csrf"]`, "forged"), chromedp.Click("#replace"),
				chromedp.WaitVisible("#error")); err != nil {
				t.Fatal(err)
			}
			if msg, _ := chromedp.Run(ctx, chromedp.Text("#error")); !strings.Contains(msg, "CSRF") {
				t.Errorf("forged form: %q", msg)
			}
			if _, ok, _ := e.store.RegisteredClient(context.Background(), "alice"); !ok {
				t.Error("a forged form removed alice's client")
			}

			// Replacing the secret, delivered to a program on the loopback.
			got := make(chan url.Values, 1)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					r.ParseForm()
					select {
					case got <- r.PostForm:
					default:
					}
				}
				io.WriteString(w, "<p id=\"received\">received</p>")
			})}
			go srv.Serve(ln)
			defer srv.Close()
			target := "http://" + ln.Addr().String() + "/cwt"
			visit(t, ctx, e.url+"/wps/auth/client_registration/?redirect_uri="+url.QueryEscape(target)+"&state=s-42", "#replace")
			if err := chromedp.Do(ctx, chromedp.Click("#replace")); err != nil {
				t.Fatal(err)
			}
			var delivered url.Values
			select {
			case delivered = <-got:
			case <-time.After(30 * time.Second):
				t.Fatal("the new credentials were not delivered to the loopback program")
			}
			newID, newSecret := delivered.Get("client_id"), delivered.Get("client_secret")
			if delivered.Get("state") != "s-42" || newSecret == "" || newSecret == secret {
				t.Fatalf("delivered %v", delivered)
			}
			tok2 := p.ClientCredentialsToken(t, newID, newSecret).AccessToken
			e.mustExecute(tok2)
			// The old client is gone at the provider.
			if status, _ := p.PostForm(t, p.TokenURL, url.Values{"grant_type": {"client_credentials"}}, id, secret); status == 200 {
				t.Error("the replaced secret still gets tokens")
			}

			// A redirect_uri off the loopback is refused with a page that says why.
			page = visit(t, ctx, e.url+"/wps/auth/client_registration/?redirect_uri="+url.QueryEscape("http://evil.example:80/steal")+"&state=x", "#error")
			if !strings.Contains(page, "127.0.0.1") {
				t.Errorf("foreign redirect_uri:\n%s", page)
			}

			// Nothing secret reached the log.
			logs := e.logs.String()
			for _, s := range []string{secret, newSecret, tok, tok2, aliceLogin, p.ServerClient.Secret, p.InitialAccessToken} {
				if s != "" && strings.Contains(logs, s) {
					t.Errorf("the log contains a secret or token (%.6s...)", s)
				}
			}
			if !strings.Contains(logs, "client registered") {
				t.Errorf("the log does not record the registration")
			}
		})
	}
}

func readCredentials(t *testing.T, bctx context.Context) (string, string) {
	t.Helper()
	if err := chromedp.Do(bctx, chromedp.WaitVisible("#client_secret")); err != nil {
		loc, _ := chromedp.Run(bctx, chromedp.Location())
		html, _ := chromedp.Run(bctx, chromedp.OuterHTML("html"))
		t.Fatalf("no credentials shown at %s: %v\n%s", loc, err, html)
	}
	id, err := chromedp.Run(bctx, chromedp.Text("#client_id"))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(bctx, chromedp.Text("#client_secret"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(id), strings.TrimSpace(secret)
}

// visit opens a page and returns its HTML once the element is there.
func visit(t *testing.T, ctx context.Context, u, ready string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(ready)); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML("html"))
		t.Fatalf("%s: %v\n%s", u, err, html)
	}
	html, err := chromedp.Run(ctx, chromedp.OuterHTML("html"))
	if err != nil {
		t.Fatal(err)
	}
	return html
}

// TestNativePKCELogin is the cwt client's authorization-code flow: a
// public client, a listener on 127.0.0.1:8888, the login in a browser, and
// the code exchanged with its verifier for a token the server accepts.
func TestNativePKCELogin(t *testing.T) {
	var once sync.Mutex
	for _, pv := range providers {
		t.Run(pv.name, func(t *testing.T) {
			once.Lock() // one listener on 8888 at a time
			defer once.Unlock()
			p := pv.start(t, authtest.Config{})
			e := startAuth(t, pv, p, nil)
			cb := authtest.ListenCallback(t, "127.0.0.1:8888")
			pk := authtest.NewPKCE()
			ctx := authtest.NewBrowser(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(p.AuthCodeURL(p.PublicClient.ID, cb.URL, "state-8888-abcdef", pk, "openid", "profile"))); err != nil {
				t.Fatal(err)
			}
			p.BrowserLogin(t, ctx, "alice")
			q := cb.Wait(t, 30*time.Second)
			if q.Get("state") != "state-8888-abcdef" || q.Get("code") == "" {
				t.Fatalf("redirect %v", q)
			}
			tok := p.ExchangeCode(t, p.PublicClient.ID, "", q.Get("code"), cb.URL, pk.Verifier)
			loc := e.mustExecute(tok.AccessToken)
			if d := e.wait(loc, "Authorization", "Bearer "+tok.AccessToken); d.state() != "ProcessSucceeded" {
				t.Errorf("job: %+v", d.Status.Failed)
			}
		})
	}
}
