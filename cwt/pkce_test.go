package cwt

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// get sends a GET to the listener as a browser would and returns the
// status and page.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func startCallback(t *testing.T, state string) (*callback, string) {
	t.Helper()
	cb, err := listenCallback(0, state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cb.close)
	return cb, "http://" + cb.ln.Addr().String()
}

// stillWaiting checks that the login has not ended.
func stillWaiting(t *testing.T, cb *callback, after string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if code, err := cb.wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after %s the listener stopped waiting: %q %v", after, code, err)
	}
}

func TestCallbackIgnoresStrayRequests(t *testing.T) {
	cb, base := startCallback(t, "s3cret-state")
	for _, path := range []string{"/favicon.ico", "/robots.txt", "/callback?state=s3cret-state&code=x"} {
		if status, _ := get(t, base+path); status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, status)
		}
		stillWaiting(t, cb, path)
	}
	// The bare page (a reload, a prefetch) says what cwt waits for.
	if status, body := get(t, base+"/"); status != 200 || !strings.Contains(body, "waiting") {
		t.Errorf("/: %d %s", status, body)
	}
	stillWaiting(t, cb, "/")
	resp, err := http.Post(base+"/?state=s3cret-state&code=x", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stillWaiting(t, cb, "a POST")
	// The real answer still completes the login.
	status, body := get(t, base+"/?state=s3cret-state&code=the-code&session_state=x")
	if status != 200 || !strings.Contains(body, "You are logged in") {
		t.Errorf("answer page: %d %s", status, body)
	}
	if code, err := cb.wait(context.Background()); code != "the-code" || err != nil {
		t.Errorf("code %q %v", code, err)
	}
}

func TestCallbackRefusesAnotherState(t *testing.T) {
	cb, base := startCallback(t, "expected-state")
	for _, q := range []string{"state=other&code=stolen", "code=no-state", "state=other&error=access_denied"} {
		status, body := get(t, base+"/?"+q)
		if status != http.StatusBadRequest || !strings.Contains(body, "state does not match") {
			t.Errorf("%s: %d %s", q, status, body)
		}
		stillWaiting(t, cb, q)
	}
	get(t, base+"/?state=expected-state&code=good")
	if code, err := cb.wait(context.Background()); code != "good" || err != nil {
		t.Errorf("code %q %v", code, err)
	}
}

func TestCallbackReportsProviderError(t *testing.T) {
	cb, base := startCallback(t, "st")
	q := url.Values{"state": {"st"}, "error": {"access_denied"}, "error_description": {"The user cancelled the login"}}
	status, body := get(t, base+"/?"+q.Encode())
	if status != 200 || !strings.Contains(body, "Login failed") || !strings.Contains(body, "The user cancelled the login") {
		t.Errorf("error page: %d %s", status, body)
	}
	_, err := cb.wait(context.Background())
	var ae *AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Error(), "refused the login (access_denied: The user cancelled the login)") {
		t.Errorf("error: %v", err)
	}
}

func TestCallbackPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = listenCallback(port, "s")
	var ae *AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Error(), "port "+strconv.Itoa(port)+" on 127.0.0.1 is already in use") ||
		!strings.Contains(ae.Error(), "choose another port") {
		t.Errorf("port in use: %v", err)
	}
}

// The listener is on the loopback only: not on the machine's other
// addresses.
func TestCallbackListensOnLoopbackOnly(t *testing.T) {
	cb, _ := startCallback(t, "s")
	if host, _, _ := net.SplitHostPort(cb.ln.Addr().String()); host != "127.0.0.1" {
		t.Errorf("listening on %s", cb.ln.Addr())
	}
}
