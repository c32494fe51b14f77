package cwt

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Credentials are a registered client's id and secret.
type Credentials struct {
	ClientID     string
	ClientSecret string
}

// RegisterOptions tune RegisterClient.
type RegisterOptions struct {
	// Prompt, when set, is read for the id and secret the page shows
	// ("Client ID: ", "Client Secret: "), for when the browser cannot
	// reach the listener (for example, it runs on another computer).
	Prompt io.Reader
	// OpenBrowser shows the registration page; nil leaves the printed
	// address for the user to open.
	OpenBrowser func(url string) error
	Out         io.Writer     // instructions; nil means stderr
	Timeout     time.Duration // 0 means 10 minutes
	// Port of the loopback listener; 0 picks a free one.
	Port int
}

// registrationPath is the path of the listener that receives the
// credentials; any path works with the server.
const registrationPath = "/cwt/registration"

// RegisterClient gets a client id and secret through the server's
// registration page, as the LLNL client does (the user opens the page,
// logs in, and the page shows them), without the copying: a one-shot
// listener on 127.0.0.1 is named to the server as redirect_uri with a
// random state, and the page posts the credentials to it. The state is
// checked. When the browser cannot reach the listener, the user types them
// at the prompt instead.
func (c *Client) RegisterClient(ctx context.Context, o RegisterOptions) (Credentials, error) {
	root, err := c.serverRoot()
	if err != nil {
		return Credentials{}, err
	}
	state := randomToken()
	rl, err := listenRegistration(o.Port, state)
	if err != nil {
		return Credentials{}, err
	}
	defer rl.close()

	q := url.Values{"redirect_uri": {rl.url()}, "state": {state}}
	pageURL := root + "/wps/auth/client_registration/?" + q.Encode()
	if err := c.checkRegistration(ctx, pageURL); err != nil {
		return Credentials{}, err
	}

	out := o.Out
	if out == nil {
		out = os.Stderr
	}
	opened := o.OpenBrowser != nil && o.OpenBrowser(pageURL) == nil
	if opened {
		fmt.Fprintf(out, "A browser window is open on the server's client registration page. If it did not open, visit:\n\n  %s\n\n", pageURL)
	} else {
		fmt.Fprintf(out, "Open this address in a browser and sign in:\n\n  %s\n\n", pageURL)
	}
	fmt.Fprintln(out, "The page sends the new client id and secret to cwt on this computer.")

	timeout := o.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	typed := make(chan Credentials, 1)
	if o.Prompt != nil {
		fmt.Fprintln(out, "If the browser is on another computer, copy them from the page instead.")
		fmt.Fprint(out, "Client ID: ")
		go promptCredentials(o.Prompt, out, typed)
	}
	select {
	case creds := <-rl.result:
		if o.Prompt != nil {
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out, "Received the client id and secret from the browser.")
		return creds, nil
	case creds := <-typed:
		return creds, nil
	case <-wctx.Done():
		if ctx.Err() != nil {
			return Credentials{}, ctx.Err()
		}
		return Credentials{}, &AuthError{Text: fmt.Sprintf("no client id and secret arrived within %v", timeout),
			Hint: "open the registration page in a browser and sign in"}
	}
}

// checkRegistration asks for the page without a session, as the Python
// client does: the server must redirect to its login.
func (c *Client) checkRegistration(ctx context.Context, pageURL string) error {
	hc := *c.http()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Jar = nil
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &reachError{url: pageURL, err: err}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 3 || resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusNotFound && strings.Contains(string(body), "switched off"):
		return &AuthError{Status: resp.StatusCode, Text: "this server does not use authentication (AUTH_ENABLED=false)",
			Hint: "no login is needed: run the other commands without one"}
	}
	return &AuthError{Status: resp.StatusCode,
		Text: fmt.Sprintf("the server offers no client registration at %s (HTTP %d)", strings.SplitN(pageURL, "?", 2)[0], resp.StatusCode),
		Hint: "contact the server's administrator"}
}

func promptCredentials(in io.Reader, out io.Writer, typed chan<- Credentials) {
	r := bufio.NewReader(in)
	read := func() (string, bool) {
		line, err := r.ReadString('\n')
		line = strings.TrimSpace(line)
		return line, err == nil || (errors.Is(err, io.EOF) && line != "")
	}
	id, ok := read()
	if !ok || id == "" {
		return
	}
	fmt.Fprint(out, "Client Secret: ")
	secret, ok := read()
	if !ok || secret == "" {
		return
	}
	typed <- Credentials{ClientID: id, ClientSecret: secret}
}

// registrationListener receives the POST of the registration page.
type registrationListener struct {
	ln     net.Listener
	srv    *http.Server
	state  string
	result chan Credentials
}

func listenRegistration(port int, state string) (*registrationListener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("cannot listen on 127.0.0.1 for the credentials: %w", err)
	}
	rl := &registrationListener{ln: ln, state: state, result: make(chan Credentials, 1)}
	rl.srv = &http.Server{Handler: http.HandlerFunc(rl.serve), ReadHeaderTimeout: 10 * time.Second}
	go rl.srv.Serve(ln)
	return rl, nil
}

func (rl *registrationListener) url() string {
	return "http://" + rl.ln.Addr().String() + registrationPath
}

func (rl *registrationListener) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != registrationPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		page(w, http.StatusOK, "Waiting for the credentials", "cwt is waiting for the server's registration page to send the client id and secret here.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		page(w, http.StatusBadRequest, "Not accepted", "The form could not be read.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("state")), []byte(rl.state)) != 1 {
		page(w, http.StatusBadRequest, "Not accepted",
			"These credentials were not sent for the registration cwt is waiting for (the state does not match); cwt ignored them.")
		return
	}
	creds := Credentials{ClientID: strings.TrimSpace(r.PostForm.Get("client_id")), ClientSecret: strings.TrimSpace(r.PostForm.Get("client_secret"))}
	if creds.ClientID == "" || creds.ClientSecret == "" {
		page(w, http.StatusBadRequest, "Not accepted", "The client id or secret is missing.")
		return
	}
	select {
	case rl.result <- creds:
		page(w, http.StatusOK, "Credentials received", "cwt received the client id and secret. You can close this window.")
	default:
		page(w, http.StatusOK, "Credentials received", "cwt already received credentials. You can close this window.")
	}
}

func (rl *registrationListener) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = rl.srv.Shutdown(ctx)
}
