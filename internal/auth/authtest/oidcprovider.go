package authtest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartOIDCProvider runs oidc-provider configured like KeyCloak (see the
// package documentation) until tb.Cleanup. The issuer is
// http://127.0.0.1:<port>/realms/<realm>.
func StartOIDCProvider(tb testing.TB, cfg Config) *Provider {
	tb.Helper()
	cfg = cfg.withDefaults()
	dir := filepath.Join(sourceDir(tb), "oidc-provider")
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("authtest: node not found on PATH: %s", setupHint)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		tb.Fatalf("authtest: %s/node_modules is missing: %s", dir, setupHint)
	}

	fr := listenFront(tb)
	issuer := fr.url() + "/realms/" + url.PathEscape(cfg.Realm)
	adminToken := randomString()
	conf := map[string]any{
		"port":                 0,
		"issuer":               issuer,
		"realm":                cfg.Realm,
		"users":                nodeUsers(cfg.Users),
		"initial_access_token": cfg.InitialAccessToken,
		"access_token_ttl":     int(cfg.AccessTokenTTL / time.Second),
		"auto_login":           cfg.AutoLogin,
		"admin_token":          adminToken,
		"scopes":               cfg.Scopes,
	}
	confJSON, err := json.Marshal(conf)
	must(tb, err, "config")

	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	// Config by environment, not argv: it holds secrets, and argv is public.
	cmd.Env = append(os.Environ(), "OIDC_TEST_CONFIG="+string(confJSON))
	stdout, err := cmd.StdoutPipe()
	must(tb, err, "stdout pipe")
	proc := startProcess(tb, "oidc-provider", cmd)
	base := waitReady(tb, proc, stdout)
	fr.serve(strings.TrimPrefix(base, "http://"))

	p := &Provider{
		Kind:               KindOIDCProvider,
		Issuer:             issuer,
		KeycloakURL:        fr.url(),
		Realm:              cfg.Realm,
		InitialAccessToken: cfg.InitialAccessToken,
		users:              cfg.Users,
		fronts:             []*front{fr},
		hosts:              map[string]bool{fr.addr: true},
	}
	admin := base + "/_test/clients"
	p.setCli = func(tb testing.TB, c Client) Client {
		tb.Helper()
		b, err := json.Marshal(c.metadata())
		must(tb, err, "client")
		h := http.Header{"Authorization": {"Bearer " + adminToken}, "Content-Type": {"application/json"}}
		status, body := p.do(tb, http.MethodPost, admin, h, strings.NewReader(string(b)))
		if status != http.StatusCreated {
			tb.Fatalf("authtest: oidc-provider: set client %s: %d %v", c.ID, status, body)
		}
		return c
	}
	p.register = func(tb testing.TB, metadata map[string]any) Registration {
		tb.Helper()
		return p.postRegistration(tb, p.InitialAccessToken, metadata)
	}

	d := p.Discovery(tb)
	for field, dst := range map[string]*string{
		"authorization_endpoint": &p.AuthURL,
		"token_endpoint":         &p.TokenURL,
		"introspection_endpoint": &p.IntrospectionURL,
		"revocation_endpoint":    &p.RevocationURL,
		"registration_endpoint":  &p.RegistrationURL,
		"end_session_endpoint":   &p.EndSessionURL,
		"jwks_uri":               &p.JWKSURL,
		"userinfo_endpoint":      &p.UserinfoURL,
	} {
		s, _ := d[field].(string)
		if s == "" {
			tb.Fatalf("authtest: oidc-provider discovery lacks %s: %v", field, d)
		}
		*dst = s
	}
	p.ServerClient = p.SetClient(tb, cfg.ServerClient)
	p.PublicClient = p.SetClient(tb, cfg.PublicClient)
	return p
}

// nodeUsers is the users table in server.mjs's JSON shape.
func nodeUsers(users map[string]User) map[string]any {
	out := map[string]any{}
	for name, u := range users {
		m := map[string]any{"roles": u.Roles, "client_roles": u.ClientRoles}
		if u.Password != "" {
			m["password"] = u.Password
		}
		out[name] = m
	}
	return out
}

// waitReady reads the "ready <url>" line server.mjs prints once listening.
func waitReady(tb testing.TB, proc *process, stdout io.Reader) string {
	tb.Helper()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if base, ok := strings.CutPrefix(line, "ready "); ok {
				ready <- base
				continue
			}
			proc.out.Write([]byte(line + "\n"))
		}
	}()
	select {
	case base := <-ready:
		return base
	case <-proc.done:
		tb.Fatalf("authtest: oidc-provider exited before it was ready:\n%s", proc.out.String())
	case <-time.After(providerStartupWait):
		tb.Fatalf("authtest: oidc-provider not ready after %v:\n%s", providerStartupWait, proc.out.String())
	}
	return ""
}
