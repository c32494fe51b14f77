package cwt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pythonStore is ~/.cwt.json as the Python client writes it (client.md
// §7.3): a client-credentials entry under "default", a bearer token under
// "llnl", and keys this package does not know.
const pythonStore = `{"default": {"access_token": "at-1", "expires_in": 300, "refresh_expires_in": 1800, "refresh_token": "rt-1", ` +
	`"token_type": "Bearer", "not-before-policy": 0, "session_state": "abc", "scope": "profile email", ` +
	`"acquired": "2026-11-26T20:32:58.112286", "client_id": "cid", "client_secret": "csecret"}, ` +
	`"llnl": {"token": "bearer-token"}, "other": {"client_id": null, "expires_in": 300.0}}`

func TestStoreReadsPythonClientFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".cwt.json")
	if err := os.WriteFile(path, []byte(pythonStore), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: path}
	e, ok, err := s.Get("default")
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	acquired := time.Date(2026, 11, 26, 20, 32, 58, 112286000, time.Local)
	if e.AccessToken != "at-1" || e.RefreshToken != "rt-1" || e.ExpiresIn != 300 || e.RefreshExpiresIn != 1800 ||
		e.ClientID != "cid" || e.ClientSecret != "csecret" || !e.Acquired.Equal(acquired) {
		t.Errorf("entry %+v", e)
	}
	tok := e.TokenOf()
	if !tok.Valid(acquired.Add(4*time.Minute)) || tok.Valid(acquired.Add(5*time.Minute)) {
		t.Error("the Python client's token does not expire after expires_in")
	}
	if b, _, _ := s.Get("llnl"); b.Token != "bearer-token" {
		t.Errorf("bearer entry %+v", b)
	}
	if o, ok, err := s.Get("other"); err != nil || !ok || o.ClientID != "" || o.ExpiresIn != 300 {
		t.Errorf("entry with null and float: %+v %v", o, err)
	}
}

func TestStoreWritesAtomicallyAndPrivately(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".cwt.json")
	if err := os.WriteFile(path, []byte(pythonStore), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: path}
	at := time.Date(2027, 1, 2, 3, 4, 5, 600000000, time.Local)
	err := s.Update("default", func(e *Entry) error {
		e.SetToken(&Token{AccessToken: "at-2", RefreshToken: "rt-2", ExpiresIn: 60, Acquired: at})
		e.URL = "http://127.0.0.1:8000/wps"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v %v, want 0600", st.Mode().Perm(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	var all map[string]map[string]any
	raw, _ := os.ReadFile(path)
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	d := all["default"]
	// What the Python client reads, in its format: acquired is naive local
	// time for datetime.fromisoformat; unknown keys and the client stay.
	if d["access_token"] != "at-2" || d["acquired"] != "2027-01-02T03:04:05.600000" || d["client_secret"] != "csecret" ||
		d["session_state"] != "abc" || d["url"] != "http://127.0.0.1:8000/wps" || d["expires_in"] != 60.0 {
		t.Errorf("written entry: %v", d)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$`).MatchString(d["acquired"].(string)) {
		t.Errorf("acquired %q is not Python's isoformat()", d["acquired"])
	}
	if all["llnl"]["token"] != "bearer-token" {
		t.Errorf("another entry changed: %v", all["llnl"])
	}

	// Removing the last field removes the entry; Delete removes one.
	if err := s.Update("llnl", func(e *Entry) error { e.Token = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("other"); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(path)
	if strings.Contains(string(raw), `"llnl"`) || strings.Contains(string(raw), `"other"`) {
		t.Errorf("entries left: %s", raw)
	}
}

// A store that is a symbolic link (a managed dotfile) stays one.
func TestStoreFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "cwt.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".cwt.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: link}
	if err := s.Update("default", func(e *Entry) error { e.Token = "t"; return nil }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), `"token"`) {
		t.Errorf("the target was not written: %s", b)
	}
}

func TestStoreRefusesCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".cwt.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: path}
	if _, _, err := s.Get("default"); err == nil || !strings.Contains(err.Error(), "fix or remove it") {
		t.Errorf("corrupt store: %v", err)
	}
	if err := s.Update("default", func(*Entry) error { return nil }); err == nil {
		t.Error("a corrupt store was overwritten")
	}
}
