package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Decider asks KeyCloak Authorization Services whether a token may use a
// permission ("CDAT.subset#execute"), with the UMA grant in decision mode.
// Answers are cached by a hash of the token and the permission.
type Decider struct {
	Provider *Provider
	Audience string // the server's own client id, whose resources are asked about
	HTTP     *http.Client
	TTL      time.Duration

	mu    sync.Mutex
	cache map[[32]byte]decision
	group singleflight.Group
}

type decision struct {
	allow   bool
	expires time.Time
}

// Allow reports whether token may use permission.
func (d *Decider) Allow(ctx context.Context, token, permission string) (bool, error) {
	key := sha256.Sum256([]byte(permission + "\x00" + token))
	d.mu.Lock()
	if e, ok := d.cache[key]; ok && time.Now().Before(e.expires) {
		d.mu.Unlock()
		return e.allow, nil
	}
	d.mu.Unlock()
	v, err, _ := d.group.Do(string(key[:]), func() (any, error) {
		allow, err := d.ask(ctx, token, permission)
		if err != nil {
			return false, err
		}
		ttl := d.TTL
		if ttl <= 0 {
			ttl = time.Minute
		}
		d.mu.Lock()
		if d.cache == nil {
			d.cache = map[[32]byte]decision{}
		}
		d.cache[key] = decision{allow: allow, expires: time.Now().Add(ttl)}
		d.mu.Unlock()
		return allow, nil
	})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

func (d *Decider) ask(ctx context.Context, token, permission string) (bool, error) {
	e, err := d.Provider.Endpoints(ctx)
	if err != nil {
		return false, err
	}
	form := url.Values{
		"grant_type":    {"urn:ietf:params:oauth:grant-type:uma-ticket"},
		"audience":      {d.Audience},
		"permission":    {permission},
		"response_mode": {"decision"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	client := d.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrUnavailable, redactURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusOK:
		var r struct {
			Result bool `json:"result"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return false, fmt.Errorf("%w: the decision answer is not JSON", ErrUnavailable)
		}
		return r.Result, nil
	case resp.StatusCode == http.StatusForbidden, resp.StatusCode == http.StatusUnauthorized:
		// KeyCloak answers 403 access_denied when the policy says no.
		return false, nil
	case resp.StatusCode >= 500:
		return false, fmt.Errorf("%w: the decision request answered %s", ErrUnavailable, resp.Status)
	}
	return false, fmt.Errorf("%w: the decision request answered %s", ErrUnavailable, resp.Status)
}
