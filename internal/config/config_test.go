package config

import (
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"AUTH_ENABLED": "false"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8000" || c.BaseURL != "http://127.0.0.1:8000" || c.AuthEnabled {
		t.Errorf("addr %q base %q auth %v", c.Addr, c.BaseURL, c.AuthEnabled)
	}
	if c.Workers != runtime.NumCPU() || c.SyncTimeout != 30*time.Second || c.MaxBodyBytes != 4<<20 || c.AnonymousUserName != "anonymous" {
		t.Errorf("workers %d sync %v body %d anon %q", c.Workers, c.SyncTimeout, c.MaxBodyBytes, c.AnonymousUserName)
	}
	if !strings.HasSuffix(c.DataPath, "/data") || !strings.HasPrefix(c.DataPath, "/") {
		t.Errorf("DATA_PATH %q should be made absolute", c.DataPath)
	}
}

func TestValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"AUTH_ENABLED": "false", "WPS_ADDR": "0.0.0.0:9000", "WPS_BASE_URL": "https://wps.example.org/compute/",
		"WPS_DATA_ROOTS": "/data/a, /data/b/", "WPS_DATA_HOSTS": "esgf.llnl.gov,dap.example.org:8443", "WPS_WORKERS": "0",
		"WPS_SYNC_TIMEOUT": "90",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://wps.example.org/compute" {
		t.Errorf("base URL %q", c.BaseURL)
	}
	if strings.Join(c.DataRoots, ";") != "/data/a;/data/b" || strings.Join(c.DataHosts, ";") != "esgf.llnl.gov;dap.example.org:8443" {
		t.Errorf("roots %q hosts %q", c.DataRoots, c.DataHosts)
	}
	if got := strings.Join(c.SelfHosts(), " "); got != "wps.example.org:443 127.0.0.1:9000 localhost:9000 [::1]:9000" {
		t.Errorf("self hosts %q", got)
	}
	if c.MaxReadBytes != 20<<30 {
		t.Errorf("default read limit %d", c.MaxReadBytes)
	}
	for v, want := range map[string]int64{"500MB": 500e6, "1.5GiB": 3 << 29, "0": 0, "1024": 1024, "2 TB": 2e12} {
		c2, err := Load(env(map[string]string{"AUTH_ENABLED": "false", "WPS_MAX_READ_BYTES": v}))
		if err != nil || c2.MaxReadBytes != want {
			t.Errorf("WPS_MAX_READ_BYTES=%s: %v %v", v, c2, err)
		}
	}
	if _, err := Load(env(map[string]string{"AUTH_ENABLED": "false", "WPS_MAX_READ_BYTES": "lots"})); err == nil || !strings.Contains(err.Error(), "WPS_MAX_READ_BYTES must be a size") {
		t.Errorf("bad size: %v", err)
	}
	if c.Workers != 0 || c.SyncTimeout != 90*time.Second {
		t.Errorf("workers %d sync %v", c.Workers, c.SyncTimeout)
	}
}

func TestAuthEnabledNeedsAProvider(t *testing.T) {
	_, err := Load(env(nil))
	if err == nil || !strings.Contains(err.Error(), "AUTH_ENABLED is true (the default) but no identity provider is configured") {
		t.Fatalf("error %v", err)
	}
	_, err = Load(env(map[string]string{"AUTH_KEYCLOAK_URL": "https://kc.example.org/auth"}))
	if err == nil || !strings.Contains(err.Error(), "must be set together") || !strings.Contains(err.Error(), "AUTH_KEYCLOAK_CLIENT_ID and AUTH_KEYCLOAK_CLIENT_SECRET") {
		t.Fatalf("error %v", err)
	}
	c, err := Load(env(map[string]string{"AUTH_KEYCLOAK_URL": "https://kc.example.org/auth/", "AUTH_KEYCLOAK_REALM": "compute",
		"AUTH_KEYCLOAK_CLIENT_ID": "wps", "AUTH_KEYCLOAK_CLIENT_SECRET": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer() != "https://kc.example.org/auth/realms/compute" || !c.AuthEnabled {
		t.Errorf("issuer %q", c.Issuer())
	}
	c, err = Load(env(map[string]string{"AUTH_OIDC_ISSUER": "http://127.0.0.1:4444/", "AUTH_INTROSPECTION_URL": "http://127.0.0.1:4445/admin/oauth2/introspect",
		"AUTH_KEYCLOAK_CLIENT_ID": "wps", "AUTH_KEYCLOAK_CLIENT_SECRET": "s3cret", "AUTH_REQUIRED_SCOPE": "wps"}))
	if err != nil || c.Issuer() != "http://127.0.0.1:4444" || c.RequiredScope != "wps" {
		t.Fatalf("%v %+v", err, c)
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{
		"AUTH_ENABLED": "yes please", "WPS_ADDR": "localhost", "WPS_BASE_URL": "ftp://x", "WPS_WORKERS": "-1",
		"WPS_MAX_BODY_BYTES": "10", "WPS_SYNC_TIMEOUT": "soon", "WPS_LOG_FORMAT": "xml", "WPS_DATA_HOSTS": "http://evil/",
		"WPS_DATA_ROOTS": "file:///data",
	}))
	ce, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v", err, err)
	}
	for _, want := range []string{"AUTH_ENABLED must be true or false", `WPS_ADDR "localhost" is not host:port`, "WPS_BASE_URL",
		"WPS_WORKERS must be at least 0", "WPS_MAX_BODY_BYTES", "WPS_SYNC_TIMEOUT", "WPS_LOG_FORMAT", "WPS_DATA_HOSTS entry", "WPS_DATA_ROOTS entry"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q missing from:\n%v", want, err)
		}
	}
	if len(ce.Problems) < 9 {
		t.Errorf("%d problems reported", len(ce.Problems))
	}
}

// TestREADMEDocumentsEverySetting keeps the README's table in step with Vars.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\|([^|]*)\\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
	}
	for _, v := range Vars {
		def, ok := documented[v.Name]
		if !ok {
			t.Errorf("README does not document %s", v.Name)
			continue
		}
		if def != v.Default {
			t.Errorf("README gives %s the default %q, the code %q", v.Name, def, v.Default)
		}
		delete(documented, v.Name)
	}
	for name := range documented {
		t.Errorf("README documents %s, which the code does not read", name)
	}
}
