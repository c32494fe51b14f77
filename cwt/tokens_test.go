package cwt

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/auth/authtest"
)

// clock is a settable time for the token cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestTokenValidity(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tok := &Token{AccessToken: "a", ExpiresIn: 300, RefreshToken: "r", RefreshExpiresIn: 1800, Acquired: at}
	for _, c := range []struct {
		after          time.Duration
		valid, refresh bool
	}{
		{0, true, true},
		{269 * time.Second, true, true},  // 30 s before expiry: still used
		{271 * time.Second, false, true}, // within the last 30 s: replaced
		{1769 * time.Second, false, true},
		{1771 * time.Second, false, false},
	} {
		now := at.Add(c.after)
		if tok.Valid(now) != c.valid || tok.CanRefresh(now) != c.refresh {
			t.Errorf("after %v: valid %v refresh %v", c.after, tok.Valid(now), tok.CanRefresh(now))
		}
	}
	short := &Token{AccessToken: "a", ExpiresIn: 10, Acquired: at}
	if !short.Valid(at.Add(7*time.Second)) || short.Valid(at.Add(9*time.Second)) {
		t.Error("a 10 s token is kept until 2 s before its end")
	}
	if !(&Token{AccessToken: "a"}).Valid(at) {
		t.Error("a token without expires_in is used until refused")
	}
}

// The tests below run against oidc-provider set up like KeyCloak.

func TestTokensWithProvider(t *testing.T) {
	p := authtest.StartOIDCProvider(t, authtest.Config{})
	ctx := context.Background()

	t.Run("client credentials are cached and renewed", func(t *testing.T) {
		store := &Store{Path: filepath.Join(t.TempDir(), "cwt.json")}
		clk := &clock{t: time.Now()}
		a := &TokenAuthenticator{Issuer: p.Issuer, ClientID: p.ServerClient.ID, ClientSecret: p.ServerClient.Secret, Store: store, Now: clk.now}
		t1, err := a.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if t1.ExpiresIn <= 0 || p.Introspect(t, t1.AccessToken, p.ServerClient.ID, p.ServerClient.Secret)["active"] != true {
			t.Fatalf("token %+v is not active", t1)
		}
		if t2, _ := a.Token(ctx); t2.AccessToken != t1.AccessToken {
			t.Error("a valid token was replaced")
		}

		// Another program reads it from the store: no request at all, as
		// the provider being down shows.
		p.Stop(t)
		b := &TokenAuthenticator{Issuer: p.Issuer, Store: store, Now: clk.now}
		t3, err := b.Token(ctx)
		p.Start(t)
		if err != nil || t3.AccessToken != t1.AccessToken {
			t.Fatalf("from the store: %v %v", t3, err)
		}

		// Shortly before expires_in, a new one.
		clk.add(time.Duration(t1.ExpiresIn)*time.Second - 20*time.Second)
		t4, err := a.Token(ctx)
		if err != nil || t4.AccessToken == t1.AccessToken {
			t.Fatalf("near expiry: %v %v", t4, err)
		}
		if e, _, _ := store.Get(DefaultProfile); e.AccessToken != t4.AccessToken || e.ClientSecret != p.ServerClient.Secret {
			t.Errorf("the store holds %+v", e)
		}

		// A token the server refuses (revoked) is not sent again.
		req, _ := http.NewRequest("GET", "http://wps.test/", nil)
		if err := a.Authorize(ctx, req); err != nil {
			t.Fatal(err)
		}
		if !a.Refused(req) {
			t.Fatal("Refused says a retry cannot help")
		}
		if t5, err := a.Token(ctx); err != nil || t5.AccessToken == t4.AccessToken {
			t.Errorf("after a refusal: %v %v", t5, err)
		}
	})

	t.Run("a login is refreshed, then needed again", func(t *testing.T) {
		tok := loginWithGoBrowser(t, p, "alice")
		store := &Store{Path: filepath.Join(t.TempDir(), "cwt.json")}
		err := store.Update("me", func(e *Entry) error {
			e.SetToken(tok)
			e.ClientID, e.Flow, e.Issuer = p.PublicClient.ID, FlowPKCE, p.Issuer
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		clk := &clock{t: time.Now()}
		logins := 0
		a := &TokenAuthenticator{Issuer: p.Issuer, Store: store, Profile: "me", Now: clk.now}
		if got, err := a.Token(ctx); err != nil || got.AccessToken != tok.AccessToken {
			t.Fatalf("saved login: %v %v", got, err)
		}
		clk.add(time.Duration(tok.ExpiresIn) * time.Second)
		refreshed, err := a.Token(ctx)
		if err != nil || refreshed.AccessToken == tok.AccessToken {
			t.Fatalf("refresh: %v %v", refreshed, err)
		}
		if in := p.Introspect(t, refreshed.AccessToken, p.ServerClient.ID, p.ServerClient.Secret); in["active"] != true || in["username"] != "alice" {
			t.Errorf("refreshed token: %v", in)
		}
		if e, _, _ := store.Get("me"); e.AccessToken != refreshed.AccessToken || e.ClientID != p.PublicClient.ID {
			t.Errorf("the store holds %+v", e)
		}

		// The refresh token revoked: only a new login helps.
		p.Revoke(t, refreshed.RefreshToken, p.PublicClient.ID, "")
		clk.add(time.Duration(refreshed.ExpiresIn) * time.Second)
		_, err = a.Token(ctx)
		var ae *AuthError
		if !errors.As(err, &ae) || !errors.Is(err, ErrLoginRequired) {
			t.Fatalf("revoked refresh token: %v", err)
		}
		a.Login = func(context.Context) (*Token, error) {
			logins++
			return &Token{AccessToken: "from-login", ExpiresIn: 300, Acquired: clk.now()}, nil
		}
		if got, err := a.Token(ctx); err != nil || got.AccessToken != "from-login" || logins != 1 {
			t.Errorf("with a login: %v %v (%d logins)", got, err, logins)
		}
	})

	t.Run("PKCE login", func(t *testing.T) {
		port := freePort(t)
		pc := p.PublicClient
		pc.RedirectURIs = append(pc.RedirectURIs, "http://127.0.0.1:"+itoa(port))
		p.SetClient(t, pc)
		opened := make(chan string, 1)
		l := &PKCELogin{Issuer: p.Issuer, ClientID: pc.ID, Port: port, Out: io.Discard, Timeout: 30 * time.Second,
			OpenBrowser: func(u string) error { opened <- u; return nil }}
		type result struct {
			tok *Token
			err error
		}
		done := make(chan result, 1)
		go func() {
			tok, err := l.Login(ctx)
			done <- result{tok, err}
		}()
		var authURL string
		select {
		case authURL = <-opened:
		case r := <-done:
			t.Fatalf("login ended before opening a browser: %v", r.err)
		}
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
		back := p.HTTPLogin(t, browser, authURL, "bob")
		if back.Query().Get("state") == "" || back.Host != "127.0.0.1:"+itoa(port) {
			t.Fatalf("the provider sent the browser to %s", back)
		}
		resp, err := browser.Get(back.String())
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := <-done
		if r.err != nil {
			t.Fatalf("login: %v (page %s)", r.err, page)
		}
		if in := p.Introspect(t, r.tok.AccessToken, p.ServerClient.ID, p.ServerClient.Secret); in["active"] != true || in["username"] != "bob" {
			t.Errorf("token: %v", in)
		}
		if r.tok.RefreshToken == "" || r.tok.ExpiresIn <= 0 {
			t.Errorf("token lacks a refresh token or expiry: %+v", r.tok)
		}
	})
}

// loginWithGoBrowser is the PKCE flow with authtest's Go browser, for
// tests that need a user's token with a refresh token.
func loginWithGoBrowser(t *testing.T, p *authtest.Provider, user string) *Token {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	pk := authtest.NewPKCE()
	redirect := "http://127.0.0.1:8888"
	u := p.HTTPLogin(t, &http.Client{Jar: jar, Timeout: 20 * time.Second},
		p.AuthCodeURL(p.PublicClient.ID, redirect, "state-"+user, pk, "openid"), user)
	tk := p.ExchangeCode(t, p.PublicClient.ID, "", u.Query().Get("code"), redirect, pk.Verifier)
	if tk.RefreshToken == "" {
		t.Fatal("the provider gave no refresh token")
	}
	return &Token{AccessToken: tk.AccessToken, RefreshToken: tk.RefreshToken, TokenType: tk.TokenType, Scope: tk.Scope,
		ExpiresIn: int64(tk.ExpiresIn), Acquired: time.Now()}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func itoa(n int) string { return strconv.Itoa(n) }

// Ory Hydra is a plain OpenID Connect issuer (no KeyCloak paths): its
// endpoints come from discovery, and both grants work.
func TestTokensWithPlainIssuer(t *testing.T) {
	p := authtest.StartHydra(t, authtest.Config{})
	ctx := context.Background()
	a := &TokenAuthenticator{Issuer: p.Issuer, ClientID: p.ServerClient.ID, ClientSecret: p.ServerClient.Secret}
	tok, err := a.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Introspect(t, tok.AccessToken, "", "")["active"] != true {
		t.Errorf("client credentials token is not active")
	}

	port := freePort(t)
	pc := p.PublicClient
	pc.RedirectURIs = append(pc.RedirectURIs, "http://127.0.0.1:"+itoa(port))
	p.SetClient(t, pc)
	opened := make(chan string, 1)
	l := &PKCELogin{Issuer: p.Issuer, ClientID: pc.ID, Port: port, Scopes: []string{"openid", "offline"}, Out: io.Discard,
		Timeout: 30 * time.Second, OpenBrowser: func(u string) error { opened <- u; return nil }}
	done := make(chan error, 1)
	var got *Token
	go func() {
		var err error
		got, err = l.Login(ctx)
		done <- err
	}()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	var authURL string
	select {
	case authURL = <-opened:
	case err := <-done:
		t.Fatalf("login ended before opening a browser: %v", err)
	}
	back := p.HTTPLogin(t, browser, authURL, "alice")
	resp, err := browser.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if in := p.Introspect(t, got.AccessToken, "", ""); in["active"] != true || got.RefreshToken == "" {
		t.Errorf("PKCE token: %v, refresh token %q", in, got.RefreshToken)
	}
}
