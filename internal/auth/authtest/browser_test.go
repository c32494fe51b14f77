package authtest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The native-client flow in headless Chromium: the authorization URL, the
// provider's login form, the redirect to a loopback listener, the code
// exchanged with the PKCE verifier.
func TestBrowserPKCE(t *testing.T) {
	eachProvider(t, func(t *testing.T, start starter) {
		p := start(t, Config{})
		cb := ListenCallback(t, "127.0.0.1:0")
		client := p.SetClient(t, Client{ID: "native", RedirectURIs: []string{cb.URL}})
		pkce := NewPKCE()
		state := randomString()

		ctx := NewBrowser(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(p.AuthCodeURL(client.ID, cb.URL, state, pkce, "openid", "offline_access"))); err != nil {
			t.Fatal(err)
		}
		p.BrowserLogin(t, ctx, "alice")
		q := cb.Wait(t, 20*time.Second)
		if q.Get("state") != state || q.Get("code") == "" {
			t.Fatalf("callback query = %v", q)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("done"))); err != nil {
			t.Errorf("callback page: %v", err)
		}
		tok := p.ExchangeCode(t, client.ID, "", q.Get("code"), cb.URL, pkce.Verifier)
		if tok.AccessToken == "" || tok.RefreshToken == "" {
			t.Fatalf("token = %+v", tok)
		}
		sc := p.ServerClient
		in := p.Introspect(t, tok.AccessToken, sc.ID, sc.Secret)
		if in["active"] != true || in["client_id"] != client.ID {
			t.Fatalf("introspection = %v", in)
		}
		user := in["username"]
		if p.Kind == KindHydra {
			ext, _ := in["ext"].(map[string]any)
			user = ext["username"]
		}
		if user != "alice" {
			t.Errorf("introspection = %v, want user alice", in)
		}
	})
}

// A wrong user name shows KeyCloak's message on the form.
func TestBrowserLoginRefused(t *testing.T) {
	t.Parallel()
	p := StartOIDCProvider(t, Config{})
	ctx := NewBrowser(t)
	u := p.AuthCodeURL(p.PublicClient.ID, p.PublicClient.RedirectURIs[0], randomString(), NewPKCE(), "openid")
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	p.BrowserLogin(t, ctx, "mallory")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("input-error"))); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("input-error")))
	if err != nil || msg != "Invalid username or password." {
		t.Errorf("error text %q, %v", msg, err)
	}
}
