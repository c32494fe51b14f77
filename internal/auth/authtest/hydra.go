package authtest

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartHydra runs Ory Hydra v2.3.0 (serve all --dev, in-memory database,
// anonymous dynamic client registration, PKCE required of public clients) with a login and consent app of
// ours, until tb.Cleanup. Config.Realm and InitialAccessToken do not apply;
// roles are not put in tokens.
func StartHydra(tb testing.TB, cfg Config) *Provider {
	tb.Helper()
	cfg = cfg.withDefaults()
	bin := HydraPath()
	requireExecutable(tb, bin, "the Hydra binary")

	public, admin := listenFront(tb), listenFront(tb)
	app := &loginApp{users: cfg.Users, auto: cfg.AutoLogin}
	// Started once Hydra runs and app.admin is known.
	appSrv := httptest.NewUnstartedServer(app)
	tb.Cleanup(appSrv.Close)
	appURL := "http://" + appSrv.Listener.Addr().String()

	var proc *process
	var internalAdmin string
	// Hydra needs its ports in the config file, so they are picked free and
	// may be taken in between: try again with new ones.
	for attempt := 1; ; attempt++ {
		pubPort, admPort := freePort(tb), freePort(tb)
		internalAdmin = fmt.Sprintf("http://127.0.0.1:%d", admPort)
		conf := filepath.Join(tb.TempDir(), "hydra.yml")
		must(tb, os.WriteFile(conf, []byte(hydraConfig(pubPort, admPort, public.url(), appURL, cfg.AccessTokenTTL)), 0o600), "write config")
		cmd := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out", "-c", conf)
		proc = startProcess(tb, "hydra", cmd)
		if waitHealthy(internalAdmin+"/health/ready", proc) {
			public.serve(fmt.Sprintf("127.0.0.1:%d", pubPort))
			admin.serve(fmt.Sprintf("127.0.0.1:%d", admPort))
			break
		}
		proc.stop()
		if attempt == 3 {
			tb.Fatalf("authtest: hydra did not become ready:\n%s", proc.out.String())
		}
	}
	app.admin = internalAdmin
	appSrv.Start()

	p := &Provider{
		Kind:             KindHydra,
		Issuer:           public.url(),
		AdminURL:         admin.url(),
		AuthURL:          public.url() + "/oauth2/auth",
		TokenURL:         public.url() + "/oauth2/token",
		IntrospectionURL: admin.url() + "/admin/oauth2/introspect",
		RevocationURL:    public.url() + "/oauth2/revoke",
		RegistrationURL:  public.url() + "/oauth2/register",
		EndSessionURL:    public.url() + "/oauth2/sessions/logout",
		JWKSURL:          public.url() + "/.well-known/jwks.json",
		UserinfoURL:      public.url() + "/userinfo",
		users:            cfg.Users,
		fronts:           []*front{public, admin},
		hosts:            map[string]bool{public.addr: true, admin.addr: true, strings.TrimPrefix(appURL, "http://"): true},
	}
	p.setCli = func(tb testing.TB, c Client) Client {
		tb.Helper()
		m := c.metadata()
		if c.Scope == "" { // Hydra's default allows only openid and offline
			m["scope"] = strings.Join(append([]string{"openid", "offline_access", "offline", "profile", "email"}, cfg.Scopes...), " ")
		}
		b, err := json.Marshal(m)
		must(tb, err, "client")
		h := http.Header{"Content-Type": {"application/json"}}
		// PUT replaces; a client that does not exist yet needs POST.
		status, body := p.do(tb, http.MethodPut, p.AdminURL+"/admin/clients/"+url.PathEscape(c.ID), h, strings.NewReader(string(b)))
		if status == http.StatusNotFound {
			status, body = p.do(tb, http.MethodPost, p.AdminURL+"/admin/clients", h, strings.NewReader(string(b)))
		}
		if status != http.StatusOK && status != http.StatusCreated {
			tb.Fatalf("authtest: hydra: set client %s: %d %v", c.ID, status, body)
		}
		return c
	}
	p.register = func(tb testing.TB, metadata map[string]any) Registration {
		tb.Helper()
		return p.postRegistration(tb, "", metadata)
	}
	p.ServerClient = p.SetClient(tb, cfg.ServerClient)
	p.PublicClient = p.SetClient(tb, cfg.PublicClient)
	return p
}

func hydraConfig(pubPort, admPort int, issuer, app string, ttl time.Duration) string {
	return fmt.Sprintf(`dsn: memory
serve:
  public: {host: 127.0.0.1, port: %d}
  admin: {host: 127.0.0.1, port: %d}
urls:
  self: {issuer: %q, public: %q}
  login: %q
  consent: %q
  error: %q
secrets:
  system: [%q]
ttl:
  access_token: %ds
oauth2:
  pkce: {enforced_for_public_clients: true}
oidc:
  dynamic_client_registration:
    enabled: true
log: {level: warn}
`, pubPort, admPort, issuer, issuer, app+"/login", app+"/consent", app+"/error", "authtest-system-secret-"+randomString(), int(ttl/time.Second))
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(tb, err, "listen")
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitHealthy polls url until 200, or reports false when the process exits
// (a port was taken) or after providerStartupWait.
func waitHealthy(u string, proc *process) bool {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(providerStartupWait)
	for time.Now().Before(deadline) && !proc.exited() {
		if resp, err := c.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// loginApp is Hydra's login and consent app: a login form with KeyCloak's
// element ids, and a consent step that grants every requested scope and
// audience and puts the user name in the access token (introspection shows
// it under "ext").
type loginApp struct {
	admin string // Hydra's admin API, set once it runs
	users map[string]User
	auto  string
}

var loginForm = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>
{{if .Error}}<p id="input-error">{{.Error}}</p>{{end}}
<form id="kc-form-login" method="post" action="/login">
<input type="hidden" name="login_challenge" value="{{.Challenge}}">
<label for="username">Username</label> <input id="username" name="username" autofocus>
<label for="password">Password</label> <input id="password" name="password" type="password">
<input id="kc-login" name="login" type="submit" value="Sign In">
</form></body></html>`))

func (a *loginApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login":
		a.login(w, r)
	case "/consent":
		a.consent(w, r)
	default: // Hydra's error URL, and anything else
		http.Error(w, "hydra: "+r.URL.Query().Get("error")+": "+r.URL.Query().Get("error_description"), http.StatusBadRequest)
	}
}

func (a *loginApp) login(w http.ResponseWriter, r *http.Request) {
	challenge := r.FormValue("login_challenge")
	var req struct {
		Skip    bool   `json:"skip"`
		Subject string `json:"subject"`
	}
	if err := a.call(http.MethodGet, "/admin/oauth2/auth/requests/login?login_challenge="+url.QueryEscape(challenge), nil, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	name := a.auto
	switch {
	case req.Skip: // Hydra remembers the user; it must be accepted as is
		name = req.Subject
	case r.Method == http.MethodPost:
		name = r.PostFormValue("username")
		if msg := a.refuse(name, r.PostFormValue("password")); msg != "" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			loginForm.Execute(w, map[string]string{"Challenge": challenge, "Error": msg})
			return
		}
	}
	if name == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		loginForm.Execute(w, map[string]string{"Challenge": challenge})
		return
	}
	a.accept(w, r, "/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(challenge),
		map[string]any{"subject": name, "remember": false})
}

// refuse returns KeyCloak's message for a bad login; an empty users table
// lets anyone in.
func (a *loginApp) refuse(name, password string) string {
	u, ok := a.users[name]
	switch {
	case name == "":
		return "Invalid username or password."
	case len(a.users) == 0:
		return ""
	case !ok || (u.Password != "" && u.Password != password):
		return "Invalid username or password."
	}
	return ""
}

func (a *loginApp) consent(w http.ResponseWriter, r *http.Request) {
	challenge := r.FormValue("consent_challenge")
	var req struct {
		Subject  string   `json:"subject"`
		Scope    []string `json:"requested_scope"`
		Audience []string `json:"requested_access_token_audience"`
	}
	if err := a.call(http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+url.QueryEscape(challenge), nil, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	a.accept(w, r, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+url.QueryEscape(challenge), map[string]any{
		"grant_scope":                 req.Scope,
		"grant_access_token_audience": req.Audience,
		"session": map[string]any{
			"access_token": map[string]any{"username": req.Subject},
			"id_token":     map[string]any{"preferred_username": req.Subject},
		},
	})
}

// accept PUTs an acceptance and sends the browser where Hydra says.
func (a *loginApp) accept(w http.ResponseWriter, r *http.Request, path string, body any) {
	var out struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := a.call(http.MethodPut, path, body, &out); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, out.RedirectTo, http.StatusFound)
}

func (a *loginApp) call(method, path string, in, out any) error {
	var body *strings.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = strings.NewReader(string(b))
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, a.admin+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("hydra %s %s: %d %v", method, path, resp.StatusCode, e)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
