package cwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// DefaultProfile is the store key the Python client uses.
const DefaultProfile = "default"

// Store is the credential file shared with the Python client: one JSON
// object, by default ~/.cwt.json, mapping a name to what was saved under
// it. Unlike the Python client's, it is only ever written whole (a new file
// renamed over the old) and readable by its owner alone (mode 0600).
type Store struct {
	Path string
}

// DefaultStorePath is ~/.cwt.json.
func DefaultStorePath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".cwt.json"
	}
	return filepath.Join(home, ".cwt.json")
}

// Entry is what is saved under one name. The Python client's fields come
// first; the others are this package's, which the Python client ignores.
// Keys neither knows are kept as they were.
type Entry struct {
	// The token endpoint's answer and when it came, as the Python client
	// writes them.
	AccessToken      string
	RefreshToken     string
	TokenType        string
	Scope            string
	IDToken          string
	ExpiresIn        int64
	RefreshExpiresIn int64
	Acquired         time.Time
	ClientID         string
	ClientSecret     string
	// Token is a plain bearer token (the Python BearerTokenAuthenticator).
	Token string

	URL          string // the WPS endpoint these credentials are for
	Issuer       string // the identity provider
	KeycloakURL  string
	Realm        string
	Flow         string // FlowClientCredentials, FlowPKCE or FlowBearer
	RedirectPort int    // the PKCE listener's port

	Extra map[string]json.RawMessage
}

// Flows an Entry may record.
const (
	FlowClientCredentials = "client_credentials"
	FlowPKCE              = "pkce"
	FlowBearer            = "bearer"
)

// acquiredLayout is Python's datetime.isoformat() of a naive local time,
// the only form the Python client can compare with datetime.now().
const acquiredLayout = "2006-01-02T15:04:05.000000"

// TokenOf returns the saved token, or nil.
func (e *Entry) TokenOf() *Token {
	if e.AccessToken == "" && e.RefreshToken == "" {
		return nil
	}
	return &Token{AccessToken: e.AccessToken, TokenType: e.TokenType, RefreshToken: e.RefreshToken, IDToken: e.IDToken,
		Scope: e.Scope, ExpiresIn: e.ExpiresIn, RefreshExpiresIn: e.RefreshExpiresIn, Acquired: e.Acquired}
}

// SetToken saves t (nil clears the token).
func (e *Entry) SetToken(t *Token) {
	if t == nil {
		t = &Token{}
	}
	e.AccessToken, e.TokenType, e.RefreshToken, e.IDToken = t.AccessToken, t.TokenType, t.RefreshToken, t.IDToken
	e.Scope, e.ExpiresIn, e.RefreshExpiresIn, e.Acquired = t.Scope, t.ExpiresIn, t.RefreshExpiresIn, t.Acquired
}

// Empty reports whether nothing is saved.
func (e *Entry) Empty() bool {
	b, _ := e.MarshalJSON()
	return string(b) == "{}"
}

type entryField struct {
	key string
	str *string
	num *int64
}

func (e *Entry) fields() []entryField {
	return []entryField{
		{key: "access_token", str: &e.AccessToken},
		{key: "expires_in", num: &e.ExpiresIn},
		{key: "refresh_expires_in", num: &e.RefreshExpiresIn},
		{key: "refresh_token", str: &e.RefreshToken},
		{key: "token_type", str: &e.TokenType},
		{key: "id_token", str: &e.IDToken},
		{key: "scope", str: &e.Scope},
		{key: "client_id", str: &e.ClientID},
		{key: "client_secret", str: &e.ClientSecret},
		{key: "token", str: &e.Token},
		{key: "url", str: &e.URL},
		{key: "issuer", str: &e.Issuer},
		{key: "keycloak_url", str: &e.KeycloakURL},
		{key: "realm", str: &e.Realm},
		{key: "flow", str: &e.Flow},
	}
}

// MarshalJSON writes the entry in the Python client's layout.
func (e Entry) MarshalJSON() ([]byte, error) {
	m := map[string]json.RawMessage{}
	for k, v := range e.Extra {
		m[k] = v
	}
	put := func(k string, v any) {
		b, _ := json.Marshal(v)
		m[k] = b
	}
	for _, f := range e.fields() {
		switch {
		case f.str != nil && *f.str != "":
			put(f.key, *f.str)
		case f.num != nil && *f.num != 0:
			put(f.key, *f.num)
		}
	}
	if !e.Acquired.IsZero() {
		put("acquired", e.Acquired.Local().Format(acquiredLayout))
	}
	if e.RedirectPort != 0 {
		put("redirect_port", e.RedirectPort)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteString(": ")
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an entry leniently: the Python client may have
// written nulls, or numbers as floats.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*e = Entry{}
	for _, f := range e.fields() {
		raw, ok := m[f.key]
		if !ok {
			continue
		}
		delete(m, f.key)
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			continue
		}
		switch x := v.(type) {
		case string:
			if f.str != nil {
				*f.str = x
			} else if n, err := strconv.ParseFloat(x, 64); err == nil {
				*f.num = int64(n)
			}
		case json.Number:
			if f.num != nil {
				n, _ := x.Float64()
				*f.num = int64(n)
			} else {
				*f.str = x.String()
			}
		}
	}
	if raw, ok := m["acquired"]; ok {
		delete(m, "acquired")
		var s string
		if json.Unmarshal(raw, &s) == nil {
			e.Acquired = parseAcquired(s)
		}
	}
	if raw, ok := m["redirect_port"]; ok {
		delete(m, "redirect_port")
		var n float64
		if json.Unmarshal(raw, &n) == nil {
			e.RedirectPort = int(n)
		}
	}
	if len(m) > 0 {
		e.Extra = m
	}
	return nil
}

// parseAcquired reads Python's isoformat(), naive (local time) or with an
// offset.
func parseAcquired(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if layout == time.RFC3339Nano {
			if t, err := time.Parse(layout, s); err == nil {
				return t
			}
			continue
		}
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t
		}
	}
	return time.Time{}
}

// load reads the whole file; a missing file is empty.
func (s *Store) load() (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credential store: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("credential store %s is not a JSON object (%v); fix or remove it", s.Path, err)
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

// Get returns the entry saved under name.
func (s *Store) Get(name string) (Entry, bool, error) {
	m, err := s.load()
	if err != nil {
		return Entry{}, false, err
	}
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		return Entry{}, false, nil
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Entry{}, false, fmt.Errorf("credential store %s: entry %q: %v", s.Path, name, err)
	}
	return e, true, nil
}

// Update changes the entry saved under name and writes the file; an entry
// left empty is removed. Other entries are written back as they were.
func (s *Store) Update(name string, change func(*Entry) error) error {
	m, err := s.load()
	if err != nil {
		return err
	}
	var e Entry
	if raw, ok := m[name]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("credential store %s: entry %q: %v", s.Path, name, err)
		}
	}
	if err := change(&e); err != nil {
		return err
	}
	if e.Empty() {
		delete(m, name)
	} else {
		b, _ := e.MarshalJSON()
		m[name] = b
	}
	return s.write(m)
}

// Delete removes the entry saved under name.
func (s *Store) Delete(name string) error {
	m, err := s.load()
	if err != nil {
		return err
	}
	if _, ok := m[name]; !ok {
		return nil
	}
	delete(m, name)
	return s.write(m)
}

// write replaces the file atomically with a 0600 one. A symbolic link
// (a managed dotfile) is followed, not replaced.
func (s *Store) write(m map[string]json.RawMessage) error {
	target := s.Path
	if resolved, err := filepath.EvalSymlinks(target); err == nil {
		target = resolved
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credential store: %w", err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*") // created 0600
	if err != nil {
		return fmt.Errorf("credential store: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err = f.Write(append(b, '\n')); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), target)
	}
	if err != nil {
		return fmt.Errorf("credential store: writing %s: %w", target, err)
	}
	return nil
}
