package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/computewps/computewps/cwt"
)

type loginFlags struct {
	pkce, register, noBrowser  bool
	prompt                     bool
	keycloakURL, realm, issuer string
	clientID, clientSecret     string
	token, scope               string
	port                       int
	portSet                    bool // --port given, rather than the saved or default port
	wait                       time.Duration
}

func (a *app) loginCommand() *cobra.Command {
	var lf loginFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to a server that requires authentication",
		Long: `Log in and save the login (tokens, and a client id and secret when there are
some) in the profile, with the server's URL and the identity provider, so that
the other commands need neither. Tokens are reused until shortly before they
expire, then refreshed; a new login is needed only when that fails.

Two ways to log in, with the identity provider named by --keycloak-url and
--realm (KeyCloak) or --issuer (any OpenID Connect provider):

  --pkce       log in in a browser (authorization code with PKCE) as the public
               client --client-id (default compute_public). cwt listens on
               http://127.0.0.1:PORT (--port, default 8888: the redirect URI the
               client must allow), opens the login page in a browser when it can,
               and prints its address in any case.
  --register   get a client id and secret of your own from the server's client
               registration page (you sign in there once); cwt opens or prints
               the page, which sends them back to cwt on this computer. When the
               browser cannot reach cwt (another computer), paste them at the
               prompt (on a terminal, or with --prompt from stdin). Tokens then
               come from the client credentials grant.

Or give a client id and secret you already have (--client-id, and
--client-secret or CWT_CLIENT_SECRET), or a ready access token (--token; "-"
reads it from stdin). Without any of these, cwt renews the saved client
credentials.`,
		Example: `  cwt login --url https://compute.example.org/wps --pkce \
      --keycloak-url https://compute.example.org/auth --realm compute
  cwt login --url https://compute.example.org/wps --register \
      --keycloak-url https://compute.example.org/auth --realm compute
  cwt login --url https://compute.example.org/wps --issuer https://id.example.org \
      --client-id my-client   # with CWT_CLIENT_SECRET set
  cwt login --profile llnl --url https://aims2.llnl.gov/wps --token -  < token.txt`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			lf.portSet = cmd.Flags().Changed("port")
			return a.login(cmd.Context(), lf)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&lf.pkce, "pkce", false, "log in in a browser (authorization code with PKCE)")
	f.BoolVar(&lf.register, "register", false, "get a client id and secret from the server's registration page")
	f.StringVar(&lf.keycloakURL, "keycloak-url", "", "KeyCloak's base URL (may end in /auth)")
	f.StringVar(&lf.realm, "realm", "", "the KeyCloak realm")
	f.StringVar(&lf.issuer, "issuer", "", "issuer URL of another OpenID Connect provider (instead of --keycloak-url and --realm)")
	f.StringVar(&lf.clientID, "client-id", "", "the client id (with --pkce, default compute_public)")
	f.StringVar(&lf.clientSecret, "client-secret", "", "the client secret (better: the CWT_CLIENT_SECRET environment variable)")
	f.StringVar(&lf.token, "token", "", "save a ready access token instead (- reads it from stdin)")
	f.StringVar(&lf.scope, "scope", "", "scopes to ask for, space-separated (default openid for --pkce, none otherwise)")
	f.IntVar(&lf.port, "port", cwt.DefaultRedirectPort, "with --pkce, the port of the listener on 127.0.0.1")
	f.BoolVar(&lf.noBrowser, "no-browser", false, "only print the address to open; do not start a browser")
	f.BoolVar(&lf.prompt, "prompt", false, "with --register, also read the client id and secret from stdin when it is not a terminal")
	f.DurationVar(&lf.wait, "wait", 10*time.Minute, "how long to wait for the browser")
	return cmd
}

func (a *app) login(ctx context.Context, lf loginFlags) error {
	modes := 0
	for _, m := range []bool{lf.pkce, lf.register, lf.token != ""} {
		if m {
			modes++
		}
	}
	if modes > 1 {
		return usagef("choose one of --pkce, --register and --token")
	}
	if (lf.keycloakURL == "") != (lf.realm == "") {
		return usagef("--keycloak-url and --realm go together")
	}
	if lf.issuer != "" && lf.keycloakURL != "" {
		return usagef("give either --issuer or --keycloak-url with --realm, not both")
	}
	if lf.port < 1 || lf.port > 65535 {
		return usagef("--port %d is not a port number", lf.port)
	}
	store, profile := a.store(), a.profileName()
	entry, _, err := store.Get(profile)
	if err != nil {
		return err
	}
	serverURL := ""
	if a.url != "" || a.getenv("CWT_URL") != "" || entry.URL != "" {
		if serverURL, err = a.serverURL(&entry); err != nil {
			return err
		}
	}

	if lf.token != "" {
		tok := lf.token
		if tok == "-" {
			line, err := bufio.NewReader(a.io.in).ReadString('\n')
			if tok = strings.TrimSpace(line); tok == "" {
				return usagef("--token -: no token on stdin (%v)", err)
			}
		}
		err := store.Update(profile, func(e *cwt.Entry) error {
			e.SetToken(nil)
			e.ClientID, e.ClientSecret = "", ""
			e.Token, e.Flow, e.URL = tok, cwt.FlowBearer, serverURL
			return nil
		})
		if err != nil {
			return err
		}
		return a.confirm(ctx, serverURL, "the access token", store, profile)
	}

	// Where to log in: the flags, else what the profile recorded.
	issuer, kcURL, realm := lf.issuer, lf.keycloakURL, lf.realm
	if issuer == "" && kcURL == "" {
		issuer, kcURL, realm = entry.Issuer, entry.KeycloakURL, entry.Realm
	}
	issuerURL := issuer
	if kcURL != "" {
		issuerURL = cwt.KeycloakIssuer(kcURL, realm)
	}
	if issuerURL == "" {
		return usagef("say where to log in: --keycloak-url URL --realm REALM (KeyCloak), or --issuer URL (another OpenID Connect provider)")
	}
	ep, err := cwt.Discover(ctx, nil, issuerURL)
	if err != nil {
		return err
	}
	open := cwt.OpenBrowser
	if lf.noBrowser {
		open = nil
	}
	var scopes []string
	if lf.scope != "" {
		scopes = strings.Fields(lf.scope)
	}
	save := func(tok *cwt.Token, flow, clientID, secret string) error {
		return store.Update(profile, func(e *cwt.Entry) error {
			e.SetToken(tok)
			e.Token = ""
			e.ClientID, e.ClientSecret, e.Flow = clientID, secret, flow
			e.Issuer, e.KeycloakURL, e.Realm = issuer, kcURL, realm
			if kcURL != "" {
				e.Issuer = ""
			}
			if serverURL != "" {
				e.URL = serverURL
			}
			e.RedirectPort = 0
			if flow == cwt.FlowPKCE && lf.port != cwt.DefaultRedirectPort {
				e.RedirectPort = lf.port
			}
			return nil
		})
	}

	secret := lf.clientSecret
	if secret == "" {
		secret = a.getenv("CWT_CLIENT_SECRET")
	}
	switch {
	case lf.pkce:
		clientID := lf.clientID
		if clientID == "" && entry.Flow == cwt.FlowPKCE {
			clientID = entry.ClientID
		}
		if clientID == "" {
			clientID = "compute_public"
		}
		if !lf.portSet && entry.RedirectPort != 0 {
			lf.port = entry.RedirectPort
		}
		l := &cwt.PKCELogin{Endpoints: ep, ClientID: clientID, Scopes: scopes, Port: lf.port, OpenBrowser: open,
			Out: a.io.err, Timeout: lf.wait}
		tok, err := l.Login(ctx)
		if err != nil {
			return err
		}
		if err := save(tok, cwt.FlowPKCE, clientID, ""); err != nil {
			return err
		}
		return a.confirm(ctx, serverURL, "a browser login (client "+clientID+")", store, profile)

	case lf.register:
		if serverURL == "" {
			return usagef("--register needs the server: give --url http://HOST:PORT/wps")
		}
		c := &cwt.Client{URL: serverURL, Timeout: a.timeout}
		var prompt io.Reader
		if lf.prompt || isTerminal(a.io.in) {
			prompt = a.io.in
		}
		creds, err := c.RegisterClient(ctx, cwt.RegisterOptions{Prompt: prompt, OpenBrowser: open, Out: a.io.err, Timeout: lf.wait})
		if err != nil {
			return err
		}
		return a.clientCredentials(ctx, ep, creds.ClientID, creds.ClientSecret, scopes, save, serverURL, store, profile)

	case lf.clientID != "" || secret != "":
		if lf.clientID == "" || secret == "" {
			return usagef("client credentials need both --client-id and a secret (--client-secret or CWT_CLIENT_SECRET)")
		}
		return a.clientCredentials(ctx, ep, lf.clientID, secret, scopes, save, serverURL, store, profile)

	case entry.ClientID != "" && entry.ClientSecret != "":
		return a.clientCredentials(ctx, ep, entry.ClientID, entry.ClientSecret, scopes, save, serverURL, store, profile)
	}
	return usagef("choose how to log in: --pkce (in a browser) or --register (client credentials from the server's registration page); see cwt login --help")
}

func (a *app) clientCredentials(ctx context.Context, ep *cwt.Endpoints, id, secret string, scopes []string,
	save func(*cwt.Token, string, string, string) error, serverURL string, store *cwt.Store, profile string) error {
	tok, err := cwt.ClientCredentials(ctx, nil, ep, id, secret, scopes...)
	if err != nil {
		// Keep the credentials: they were hard to get, and the provider may
		// only be down.
		if serr := save(nil, cwt.FlowClientCredentials, id, secret); serr != nil {
			return serr
		}
		return err
	}
	if err := save(tok, cwt.FlowClientCredentials, id, secret); err != nil {
		return err
	}
	return a.confirm(ctx, serverURL, "client credentials (client "+id+")", store, profile)
}

// confirm checks that the server takes the new login, and says where it
// was saved.
func (a *app) confirm(ctx context.Context, serverURL, what string, store *cwt.Store, profile string) error {
	if serverURL != "" {
		c, err := a.client()
		if err != nil {
			return err
		}
		page, err := c.Jobs(ctx, 1, 0)
		if err != nil {
			return fmt.Errorf("logged in with %s, but the server did not take it: %w", what, err)
		}
		fmt.Fprintf(a.io.out, "Logged in to %s with %s (%d jobs).\n", serverURL, what, page.Count)
	} else {
		fmt.Fprintf(a.io.out, "Logged in with %s.\n", what)
	}
	fmt.Fprintf(a.io.err, "Saved as profile %q in %s.\n", profile, store.Path)
	return nil
}

func (a *app) logoutCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget the saved login",
		Long: `Remove the saved tokens, client secret and access token of the profile from the
credential file. The server's URL and the identity provider stay, so that the
next "cwt login" needs fewer flags; --all removes the whole profile.`,
		Example: `  cwt logout
  cwt logout --profile llnl --all`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, profile := a.store(), a.profileName()
			_, ok, err := store.Get(profile)
			if err != nil {
				return err
			}
			if !ok {
				fmt.Fprintf(a.io.out, "Profile %q holds no login.\n", profile)
				return nil
			}
			if all {
				err = store.Delete(profile)
			} else {
				err = store.Update(profile, func(e *cwt.Entry) error {
					e.SetToken(nil)
					e.Token, e.ClientSecret = "", ""
					if e.Flow != cwt.FlowPKCE {
						e.ClientID = ""
					}
					return nil
				})
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.io.out, "Logged out: profile %q in %s holds no tokens or secrets now.\n", profile, store.Path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove the whole profile, with its server URL and identity provider")
	return cmd
}
