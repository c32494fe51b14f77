package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/computewps/computewps/internal/auth/authtest"
)

// TestLogins runs the server with authentication against oidc-provider set
// up like KeyCloak, and logs in with cwt as a user would: the client
// registration page in headless Chromium sending the credentials to cwt's
// listener, the same with the credentials typed at the prompt, and the
// PKCE login; each login then runs a job the server accepts.
func TestLogins(t *testing.T) {
	p := authtest.StartOIDCProvider(t, authtest.Config{})
	srv := startServer(t, map[string]string{
		"AUTH_ENABLED": "true", "AUTH_KEYCLOAK_URL": p.KeycloakURL, "AUTH_KEYCLOAK_REALM": p.Realm,
		"AUTH_KEYCLOAK_REG_ACCESS_TOKEN": p.InitialAccessToken,
		"AUTH_KEYCLOAK_CLIENT_ID":        p.ServerClient.ID, "AUTH_KEYCLOAK_CLIENT_SECRET": p.ServerClient.Secret,
	})
	sc := p.ServerClient
	sc.RedirectURIs = []string{strings.TrimSuffix(srv.url, "/wps") + "/wps/auth/oauth_callback"}
	p.SetClient(t, sc)
	tas := filepath.Join(srv.samples, "tas_day_2000.nc") + ":tas"
	provider := []string{"--keycloak-url", p.KeycloakURL, "--realm", p.Realm}

	u := newUser(t)
	store := filepath.Join(u.home, ".cwt.json")

	// Before any login: exit 4 and how to log in.
	u.fails(exitAuth, "cwt login --pkce", "--url", srv.url, "jobs")

	var clientID, secret string
	t.Run("registration through the browser", func(t *testing.T) {
		lines, wait := u.background(nil, append([]string{"login", "--register", "--url", srv.url, "--no-browser"}, provider...)...)
		page := addressIn(t, lines)
		if !strings.Contains(page, "/wps/auth/client_registration/?redirect_uri=http%3A%2F%2F127.0.0.1%3A") || !strings.Contains(page, "state=") {
			t.Fatalf("registration address %s", page)
		}
		ctx := authtest.NewBrowser(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
			t.Fatal(err)
		}
		p.BrowserLogin(t, ctx, "alice")
		// The page shows the credentials and sends them to cwt, whose
		// listener answers the browser.
		if title, err := browserTitle(ctx); err != nil || title != "Credentials received" {
			t.Errorf("the browser ended on %q: %v", title, err)
		}
		r := wait()
		if r.code != 0 || !strings.Contains(r.stdout, "Logged in to "+srv.url+" with client credentials") {
			t.Fatalf("login --register: %+v", r)
		}

		// Saved as the Python client saves it, readable by its owner only.
		st, err := os.Stat(store)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("store %s: %v %v", store, st, err)
		}
		var saved map[string]map[string]any
		b, _ := os.ReadFile(store)
		if err := json.Unmarshal(b, &saved); err != nil {
			t.Fatal(err)
		}
		e := saved["default"]
		clientID, _ = e["client_id"].(string)
		secret, _ = e["client_secret"].(string)
		if clientID == "" || secret == "" || e["access_token"] == nil || e["acquired"] == nil || e["url"] != srv.url || e["realm"] != p.Realm {
			t.Fatalf("saved entry %v", e)
		}

		// The other commands need nothing more: the profile has the server.
		res := decode[execJSON](t, u.ok("execute", "CDAT.subset", "--var", tas, "--domain", "time=i0:2", "--wait", "--json"))
		if res.Status != "ProcessSucceeded" {
			t.Fatalf("execute: %+v", res)
		}
		if jobs := decode[jobsJSON](t, u.ok("jobs", "--json")); jobs.Count != 1 {
			t.Errorf("jobs: %+v", jobs)
		}
		files := strings.Fields(u.ok("download", strconv.FormatInt(res.Job, 10), "-o", filepath.Join(u.home, "out")))
		checkSubset(t, files[0], 2, 0, 36, 0, 72)
	})
	if clientID == "" {
		t.FailNow()
	}

	t.Run("registration typed at the prompt", func(t *testing.T) {
		typed := newUser(t)
		// Nobody opens the page: the browser is on another computer, and
		// the user types what it shows.
		lines, wait := typed.background(strings.NewReader(clientID+"\n"+secret+"\n"),
			append([]string{"login", "--register", "--prompt", "--url", srv.url, "--no-browser"}, provider...)...)
		addressIn(t, lines)
		r := wait()
		if r.code != 0 || !strings.Contains(r.stderr, "Client ID: ") || !strings.Contains(r.stderr, "Client Secret: ") {
			t.Fatalf("login with the prompt: %+v", r)
		}
		// Same client, same user: alice's job is there.
		if jobs := decode[jobsJSON](t, typed.ok("jobs", "--json")); jobs.Count != 1 {
			t.Errorf("jobs: %+v", jobs)
		}
		typed.ok("logout")
		typed.fails(exitAuth, "cwt login", "jobs")
	})

	t.Run("PKCE login in the browser", func(t *testing.T) {
		port := strconv.Itoa(freePort(t))
		pc := p.PublicClient
		pc.RedirectURIs = append(pc.RedirectURIs, "http://127.0.0.1:"+port)
		p.SetClient(t, pc)
		lines, wait := u.background(nil, append([]string{"--profile", "bob", "login", "--pkce", "--port", port,
			"--url", srv.url, "--no-browser"}, provider...)...)
		login := addressIn(t, lines)
		if !strings.Contains(login, "code_challenge_method=S256") || !strings.Contains(login, "redirect_uri=http%3A%2F%2F127.0.0.1%3A"+port+"&") {
			t.Fatalf("login address %s", login)
		}
		ctx := authtest.NewBrowser(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(login)); err != nil {
			t.Fatal(err)
		}
		p.BrowserLogin(t, ctx, "bob")
		if title, err := browserTitle(ctx); err != nil || title != "Logged in" {
			t.Errorf("the browser ended on %q: %v", title, err)
		}
		r := wait()
		if r.code != 0 || !strings.Contains(r.stdout, "with a browser login (client compute_public)") {
			t.Fatalf("login --pkce: %+v", r)
		}
		res := decode[execJSON](t, u.ok("--profile", "bob", "execute", "CDAT.subset", "--var", tas, "--domain", "time=i0:1", "--wait", "--json"))
		if res.Status != "ProcessSucceeded" {
			t.Fatalf("execute as bob: %+v", res)
		}
		// Bob sees his job only, alice hers only.
		if jobs := decode[jobsJSON](t, u.ok("--profile", "bob", "jobs", "--json")); jobs.Count != 1 || jobs.Results[0].ID != res.Job {
			t.Errorf("bob's jobs: %+v", jobs)
		}
		u.fails(exitError, "was not found", "status", strconv.FormatInt(res.Job, 10))
	})

	t.Run("a login for another server is not sent", func(t *testing.T) {
		other := newUser(t)
		other.env = append(other.env, "CWT_CONFIG="+store)
		other.fails(exitAuth, "is for "+srv.url, "--url", strings.Replace(srv.url, "127.0.0.1", "localhost", 1), "jobs")
	})
}

// browserTitle waits for the page cwt's listener answers with and returns
// its heading.
func browserTitle(ctx context.Context) (string, error) {
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#title")); err != nil {
		return "", err
	}
	return chromedp.Run(ctx, chromedp.Text("#title"))
}

func freePort(t *testing.T) int {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	n, _ := strconv.Atoi(port)
	return n
}
