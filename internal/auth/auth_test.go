package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func recorded(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keycloak", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// introspectionServer answers introspection requests with the answer the
// token maps to, checking the server authenticates as a confidential client.
type introspectionServer struct {
	*httptest.Server
	calls   atomic.Int32
	answers map[string]string
	status  int
	delay   time.Duration
}

func newIntrospectionServer(t *testing.T, answers map[string]string) *introspectionServer {
	s := &introspectionServer{answers: answers, status: 200}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		time.Sleep(s.delay)
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id) // RFC 6749 §2.3.1
		secret, _ = url.QueryUnescape(secret)
		if !ok || id != "wps server" || secret != "s3cr/t+=" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		if s.status != 200 {
			w.WriteHeader(s.status)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("token") == "" {
			w.WriteHeader(400)
			return
		}
		a, ok := s.answers[r.PostForm.Get("token")]
		if !ok {
			a = `{"active":false}`
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, a)
	}))
	t.Cleanup(s.Close)
	return s
}

func newIntrospector(url string, now func() time.Time) *Introspector {
	return &Introspector{
		Endpoint: func(context.Context) (string, error) { return url, nil },
		ClientID: "wps server", ClientSecret: "s3cr/t+=",
		TTL: 5 * time.Minute, InactiveTTL: 10 * time.Second, Now: now,
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestIntrospectionCache(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 10, 0, 0, time.UTC)
	srv := newIntrospectionServer(t, map[string]string{
		"good": fmt.Sprintf(`{"active":true,"username":"alice","exp":%d}`, exp.Unix()),
	})
	c := &clock{t: exp.Add(-8 * time.Minute)}
	in := newIntrospector(srv.URL, c.now)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		info, err := in.Introspect(ctx, "good")
		if err != nil || !info.Active || info.Name() != "alice" {
			t.Fatalf("%+v %v", info, err)
		}
	}
	if n := srv.calls.Load(); n != 1 {
		t.Errorf("%d introspection requests for three checks of one token, want 1", n)
	}
	// The TTL (5 min) ends before the token (8 min): asked again after it.
	c.add(5*time.Minute + time.Second)
	in.Introspect(ctx, "good")
	if n := srv.calls.Load(); n != 2 {
		t.Errorf("after the TTL: %d requests, want 2", n)
	}
	// An answer is never reused past the token's own expiry.
	c.add(2*time.Minute + 30*time.Second) // 30 s before exp: cached until exp
	in.Introspect(ctx, "good")
	if n := srv.calls.Load(); n != 2 {
		t.Errorf("before exp: %d requests, want 2", n)
	}
	c.add(time.Minute) // past exp
	in.Introspect(ctx, "good")
	if n := srv.calls.Load(); n != 3 {
		t.Errorf("past exp: %d requests, want 3", n)
	}
	// Inactive answers are remembered briefly.
	for i := 0; i < 2; i++ {
		if info, err := in.Introspect(ctx, "bogus"); err != nil || info.Active {
			t.Fatalf("%+v %v", info, err)
		}
	}
	if n := srv.calls.Load(); n != 4 {
		t.Errorf("inactive token checked twice: %d requests, want 4", n)
	}
	c.add(11 * time.Second)
	in.Introspect(ctx, "bogus")
	if n := srv.calls.Load(); n != 5 {
		t.Errorf("inactive after its TTL: %d requests, want 5", n)
	}
	// The cache is keyed by a hash: the token itself is not stored.
	for k := range in.cache {
		if strings.Contains(string(k[:]), "good") {
			t.Error("a cache key contains the token")
		}
	}
}

func TestIntrospectionCoalesced(t *testing.T) {
	srv := newIntrospectionServer(t, map[string]string{"tok": `{"active":true,"username":"alice"}`})
	srv.delay = 200 * time.Millisecond
	in := newIntrospector(srv.URL, nil)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := in.Introspect(context.Background(), "tok"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := srv.calls.Load(); n != 1 {
		t.Errorf("20 concurrent checks of one token made %d requests, want 1", n)
	}
}

func TestIntrospectionProviderDown(t *testing.T) {
	srv := newIntrospectionServer(t, nil)
	ctx := context.Background()
	srv.status = 502
	if _, err := newIntrospector(srv.URL, nil).Introspect(ctx, "x"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("5xx: %v, want ErrUnavailable", err)
	}
	srv.Close()
	if _, err := newIntrospector(srv.URL, nil).Introspect(ctx, "x"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("connection refused: %v, want ErrUnavailable", err)
	}
	// Our own client refused by the provider is not the caller's fault either.
	srv2 := newIntrospectionServer(t, nil)
	in := newIntrospector(srv2.URL, nil)
	in.ClientSecret = "wrong"
	if _, err := in.Introspect(ctx, "x"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "refused the server's client credentials") {
		t.Errorf("bad server credentials: %v", err)
	}
	// Errors are never cached: the next call asks again.
	srv2.status = 200
	in.ClientSecret = "s3cr/t+="
	if _, err := in.Introspect(ctx, "x"); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}

func TestBasicAuthIsFormEncodedStandardBase64(t *testing.T) {
	var header string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get("Authorization")
		fmt.Fprint(w, `{"active":false}`)
	}))
	defer srv.Close()
	in := newIntrospector(srv.URL, nil)
	in.ClientID, in.ClientSecret = "wps server", "a?b>c"
	in.Introspect(context.Background(), "t")
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("wps+server:a%3Fb%3Ec"))
	if header != want {
		t.Errorf("Authorization %q, want %q (RFC 6749 §2.3.1)", header, want)
	}
}

type owners map[string]string

func (o owners) OwnerOfClient(_ context.Context, id string) (string, bool, error) {
	u, ok := o[id]
	return u, ok, nil
}

func request(header ...string) *http.Request {
	r := httptest.NewRequest("POST", "/wps", nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func TestBearerWithKeycloakAnswers(t *testing.T) {
	srv := newIntrospectionServer(t, map[string]string{
		"user-token":    recorded(t, "introspect_user.json"),
		"service-token": recorded(t, "introspect_service_account.json"),
		"dead-token":    recorded(t, "introspect_inactive.json"),
	})
	b := &Bearer{Introspector: newIntrospector(srv.URL, nil), Owners: owners{"compute-wps-alice-Xk3v": "alice"}}
	cases := []struct {
		name   string
		req    *http.Request
		user   string
		status int
		text   string
	}{
		{"user token", request("Authorization", "Bearer user-token"), "alice", 0, ""},
		{"scheme is case-insensitive", request("Authorization", "bearer user-token"), "alice", 0, ""},
		{"old clients' header", request("COMPUTE-TOKEN", "user-token"), "alice", 0, ""},
		{"service account of a registered client maps to its owner", request("Authorization", "Bearer service-token"), "alice", 0, ""},
		{"no token", request(), "", 401, "needs an access token"},
		{"not bearer", request("Authorization", "Basic YTpi"), "", 401, "must be \"Bearer <access token>\""},
		{"empty bearer", request("Authorization", "Bearer "), "", 401, "must be"},
		{"inactive", request("Authorization", "Bearer dead-token"), "", 401, "expired, was revoked or is unknown"},
		{"garbage", request("Authorization", "Bearer !!!"), "", 401, "not valid"},
	}
	for _, c := range cases {
		id, err := b.Authenticate(c.req)
		if c.status == 0 {
			if err != nil || id.User != c.user {
				t.Errorf("%s: %+v %v", c.name, id, err)
			}
			continue
		}
		var ae *Error
		if !errors.As(err, &ae) || ae.Status != c.status || !strings.Contains(ae.Text, c.text) {
			t.Errorf("%s: %v, want %d containing %q", c.name, err, c.status, c.text)
		}
	}
	// A service account of a client nobody registered keeps KeyCloak's name.
	b.Owners = owners{}
	if id, _ := b.Authenticate(request("Authorization", "Bearer service-token")); id.User != "service-account-compute-wps-alice-xk3v" {
		t.Errorf("unregistered service account: %q", id.User)
	}
	// The provider down: 503, never accepted.
	srv.Close()
	b.Introspector = newIntrospector(srv.URL, nil)
	_, err := b.Authenticate(request("Authorization", "Bearer user-token"))
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != 503 {
		t.Errorf("provider down: %v, want 503", err)
	}
}

func TestPolicyWithKeycloakRoles(t *testing.T) {
	srv := newIntrospectionServer(t, map[string]string{"user-token": recorded(t, "introspect_user.json")})
	cases := []struct {
		p    Policy
		want string // "" = allowed
	}{
		{Policy{RealmRole: "wps-user"}, ""},
		{Policy{RealmRole: "wps-admin"}, `lacks the realm role "wps-admin"`},
		{Policy{ClientRole: "compute-wps:execute"}, ""},
		{Policy{ClientRole: "execute", ServerClientID: "compute-wps"}, ""},
		{Policy{ClientRole: "compute-wps:admin"}, `lacks the role "admin" of client "compute-wps"`},
		{Policy{Scope: "profile"}, ""},
		{Policy{Scope: "wps"}, `lacks the scope "wps"`},
	}
	for _, c := range cases {
		b := &Bearer{Introspector: newIntrospector(srv.URL, nil), Policy: c.p}
		_, err := b.Authenticate(request("Authorization", "Bearer user-token"))
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.p, err)
			}
			continue
		}
		var ae *Error
		if !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(ae.Text, c.want) {
			t.Errorf("%+v: %v, want 403 %q", c.p, err, c.want)
		}
	}
}

func TestDecisionsWithKeycloakAnswers(t *testing.T) {
	var calls atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/realms/compute/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":"%[1]s/realms/compute","authorization_endpoint":"%[1]s/auth","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/certs","response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`, srv.URL)
		case "/token":
			calls.Add(1)
			r.ParseForm()
			if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:uma-ticket" || r.PostForm.Get("response_mode") != "decision" ||
				r.PostForm.Get("audience") != "compute-wps" || r.Header.Get("Authorization") != "Bearer user-token" {
				w.WriteHeader(400)
				return
			}
			if r.PostForm.Get("permission") == "CDAT.subset#execute" {
				fmt.Fprint(w, recorded(t, "uma_decision_allow.json"))
				return
			}
			w.WriteHeader(403)
			fmt.Fprint(w, recorded(t, "uma_decision_deny.json"))
		}
	}))
	defer srv.Close()
	d := &Decider{Provider: &Provider{Issuer: srv.URL + "/realms/compute"}, Audience: "compute-wps"}
	b := &Bearer{Decider: d}
	id := Identity{User: "alice", token: "user-token"}
	ctx := context.Background()
	if err := b.AllowProcess(ctx, id, "CDAT.subset"); err != nil {
		t.Errorf("allowed process: %v", err)
	}
	var ae *Error
	if err := b.AllowProcess(ctx, id, "CDAT.regrid"); !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(ae.Text, "CDAT.regrid") {
		t.Errorf("denied process: %v", err)
	}
	b.AllowProcess(ctx, id, "CDAT.subset")
	b.AllowProcess(ctx, id, "CDAT.regrid")
	if n := calls.Load(); n != 2 {
		t.Errorf("%d decision requests for four checks of two permissions, want 2 (cached)", n)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/wps/auth/client_registration/?redirect_uri=http://127.0.0.1:5000/&state=x": "/wps/auth/client_registration/?redirect_uri=http://127.0.0.1:5000/&state=x",
		"/wps/api/job/":         "/wps/api/job/",
		"":                      "/wps/auth/client_registration/",
		"https://evil.example/": "/wps/auth/client_registration/",
		"//evil.example/wps/":   "/wps/auth/client_registration/",
		"/\\evil.example":       "/wps/auth/client_registration/",
		"/other/app":            "/wps/auth/client_registration/",
		"javascript:alert(1)":   "/wps/auth/client_registration/",
		"/wps/../../etc":        "/wps/auth/client_registration/",
	} {
		if got := SafeNext(in, ""); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
	if got := SafeNext("/compute/wps/api/job/", "/compute"); got != "/compute/wps/api/job/" {
		t.Errorf("with a prefix: %q", got)
	}
}

func TestLoopbackRedirect(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8765/cb", "http://localhost:9000", "http://[::1]:7000/x?y=1"} {
		if _, err := LoopbackRedirect(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"https://127.0.0.1:8765/", "http://evil.example:80/", "http://127.0.0.1/", "http://10.0.0.1:80/",
		"http://user@127.0.0.1:80/", "http://127.0.0.1.evil.example:80/", "javascript:alert(1)", ""} {
		if _, err := LoopbackRedirect(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestSealer(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadKey("", filepath.Join(dir, "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := LoadKey("", filepath.Join(dir, "auth.key"))
	if string(key) != string(again) {
		t.Error("the generated key is not kept")
	}
	if st, _ := os.Stat(filepath.Join(dir, "auth.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	s, _ := NewSealer(key)
	sealed := s.Seal("session", []byte("alice"))
	if strings.Contains(sealed, "alice") {
		t.Error("sealed text shows the plaintext")
	}
	if b, err := s.Open("session", sealed); err != nil || string(b) != "alice" {
		t.Errorf("%q %v", b, err)
	}
	if _, err := s.Open("registration-access-token", sealed); err == nil {
		t.Error("a value sealed for one purpose opened for another")
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	if _, err := s.Open("session", string(tampered)); err == nil {
		t.Error("a tampered value opened")
	}
	if _, err := LoadKey("not base64", ""); err == nil {
		t.Error("a bad AUTH_SECRET_KEY was accepted")
	}
}
