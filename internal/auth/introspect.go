package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// TokenInfo is the part of an RFC 7662 introspection answer we use, with
// the fields KeyCloak adds (username, realm_access, resource_access) and
// Hydra's ext claims.
type TokenInfo struct {
	Active            bool             `json:"active"`
	Subject           string           `json:"sub"`
	Username          string           `json:"username"`
	PreferredUsername string           `json:"preferred_username"`
	ClientID          string           `json:"client_id"`
	AuthorizedParty   string           `json:"azp"`
	Scope             string           `json:"scope"`
	Expiry            int64            `json:"exp"`
	RealmAccess       roles            `json:"realm_access"`
	ResourceAccess    map[string]roles `json:"resource_access"`
	Ext               map[string]any   `json:"ext"`
}

type roles struct {
	Roles []string `json:"roles"`
}

// Client returns the client the token was issued to.
func (t *TokenInfo) Client() string {
	if t.ClientID != "" {
		return t.ClientID
	}
	return t.AuthorizedParty
}

// Name returns the user name the token carries: KeyCloak's username, the
// OIDC preferred_username, Hydra's ext.username, else the subject.
func (t *TokenInfo) Name() string {
	for _, n := range []string{t.Username, t.PreferredUsername} {
		if n != "" {
			return n
		}
	}
	if s, ok := t.Ext["username"].(string); ok && s != "" {
		return s
	}
	return t.Subject
}

// HasScope reports whether the space-separated scope includes s.
func (t *TokenInfo) HasScope(s string) bool {
	for _, x := range strings.Fields(t.Scope) {
		if x == s {
			return true
		}
	}
	return false
}

// ErrUnavailable wraps every failure to get an answer from the identity
// provider; requests then get 503 and the token is never accepted.
var ErrUnavailable = errors.New("the identity provider is unavailable")

// Introspector validates access tokens at the provider's introspection
// endpoint, authenticated as the server's own confidential client.
// Answers are cached by a hash of the token, never the token itself.
type Introspector struct {
	Endpoint     func(context.Context) (string, error) // the introspection URL (discovered lazily)
	ClientID     string
	ClientSecret string
	HTTP         *http.Client
	TTL          time.Duration // longest an active answer is reused
	InactiveTTL  time.Duration // how long an inactive answer is reused
	Now          func() time.Time
	// OnResult, when set, counts cache hits and misses for metrics.
	OnResult func(cached bool)

	mu    sync.Mutex
	cache map[[32]byte]cacheEntry
	group singleflight.Group
}

type cacheEntry struct {
	info    *TokenInfo
	expires time.Time
}

func (i *Introspector) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

// Introspect returns the provider's answer for token, from the cache when
// it is still valid. Concurrent calls for the same token share one request.
func (i *Introspector) Introspect(ctx context.Context, token string) (*TokenInfo, error) {
	key := sha256.Sum256([]byte(token))
	if info, ok := i.cached(key); ok {
		if i.OnResult != nil {
			i.OnResult(true)
		}
		return info, nil
	}
	if i.OnResult != nil {
		i.OnResult(false)
	}
	v, err, _ := i.group.Do(string(key[:]), func() (any, error) {
		info, err := i.ask(ctx, token)
		if err != nil {
			return nil, err
		}
		i.store(key, info)
		return info, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*TokenInfo), nil
}

func (i *Introspector) cached(key [32]byte) (*TokenInfo, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	e, ok := i.cache[key]
	if !ok {
		return nil, false
	}
	if !i.now().Before(e.expires) {
		delete(i.cache, key)
		return nil, false
	}
	// An active answer is never used past the token's own expiry.
	if e.info.Active && e.info.Expiry > 0 && !i.now().Before(time.Unix(e.info.Expiry, 0)) {
		delete(i.cache, key)
		return nil, false
	}
	return e.info, true
}

func (i *Introspector) store(key [32]byte, info *TokenInfo) {
	ttl := i.InactiveTTL
	if info.Active {
		ttl = i.TTL
		if info.Expiry > 0 {
			if left := time.Unix(info.Expiry, 0).Sub(i.now()); left < ttl {
				ttl = left
			}
		}
	}
	if ttl <= 0 {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cache == nil {
		i.cache = map[[32]byte]cacheEntry{}
	}
	// Drop expired entries now and then so the cache cannot grow without bound.
	if len(i.cache) > 10000 {
		now := i.now()
		for k, e := range i.cache {
			if !now.Before(e.expires) {
				delete(i.cache, k)
			}
		}
	}
	i.cache[key] = cacheEntry{info: info, expires: i.now().Add(ttl)}
}

func (i *Introspector) ask(ctx context.Context, token string) (*TokenInfo, error) {
	endpoint, err := i.Endpoint(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if i.ClientID != "" {
		// RFC 6749 §2.3.1: form-encode, then standard base64 (the reference
		// used URL-safe base64, which breaks some secrets).
		req.SetBasicAuth(url.QueryEscape(i.ClientID), url.QueryEscape(i.ClientSecret))
	}
	client := i.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the introspection answer: %v", ErrUnavailable, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: introspection answered %s", ErrUnavailable, resp.Status)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// Our own client was refused: a server misconfiguration, not the
		// caller's fault, and no reason to accept the token.
		return nil, fmt.Errorf("%w: introspection refused the server's client credentials (%s)", ErrUnavailable, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: introspection answered %s", ErrUnavailable, resp.Status)
	}
	var info TokenInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("%w: the introspection answer is not JSON", ErrUnavailable)
	}
	return &info, nil
}

// redactURLError keeps the operation and cause of a transport error but not
// the URL's query, where a misconfigured endpoint might carry a secret.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.User = "", nil
			return fmt.Errorf("%s %s: %v", ue.Op, u.Redacted(), ue.Err)
		}
	}
	return err
}
