package processes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAccess(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "tas.nc"), []byte("x"), 0o644))
	must(os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(root, "sub", "pr.nc"), []byte("x"), 0o644))
	must(os.WriteFile(filepath.Join(outside, "secret.nc"), []byte("x"), 0o644))
	// A link inside the root that points out of it must not open a door.
	must(os.Symlink(filepath.Join(outside, "secret.nc"), filepath.Join(root, "escape.nc")))
	must(os.Symlink(outside, filepath.Join(root, "escapedir")))
	// A link that stays inside is fine.
	must(os.Symlink(filepath.Join(root, "tas.nc"), filepath.Join(root, "alias.nc")))

	a := &Access{Roots: []string{root}, Hosts: []string{"esgf.example.org", "dap.example.org:8443"}}
	ok := []struct{ uri, want string }{
		{filepath.Join(root, "tas.nc"), filepath.Join(root, "tas.nc")},
		{"file://" + filepath.Join(root, "sub", "pr.nc"), filepath.Join(root, "sub", "pr.nc")},
		{"file://localhost" + filepath.Join(root, "tas.nc"), filepath.Join(root, "tas.nc")},
		{filepath.Join(root, "sub", "..", "tas.nc"), filepath.Join(root, "tas.nc")},
		{filepath.Join(root, "alias.nc"), filepath.Join(root, "tas.nc")},
		{"http://esgf.example.org/thredds/dodsC/cmip6/tas.nc", "http://esgf.example.org/thredds/dodsC/cmip6/tas.nc"},
		{"https://ESGF.example.org:443/x.nc", "https://ESGF.example.org:443/x.nc"},
		{"https://dap.example.org:8443/opendap/x.nc", "https://dap.example.org:8443/opendap/x.nc"},
	}
	for _, c := range ok {
		got, err := a.Resolve(c.uri)
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", c.uri, got, err, c.want)
		}
	}
	refused := []struct{ uri, want string }{
		{"/etc/passwd", "outside the data directories"},
		{filepath.Join(outside, "secret.nc"), "outside the data directories"},
		{filepath.Join(root, "..", filepath.Base(outside), "secret.nc"), "outside the data directories"},
		{filepath.Join(root, "escape.nc"), "outside the data directories"},
		{filepath.Join(root, "escapedir", "secret.nc"), "outside the data directories"},
		{filepath.Join(root, "missing.nc"), "no such file"},
		{filepath.Join(root, "sub"), "not a file"},
		{"tas.nc", "absolute path"},
		{"file://otherhost/data/tas.nc", "must not name a host"},
		{"http://169.254.169.254/latest/meta-data/", "not in the list of allowed data hosts"},
		{"http://127.0.0.1:8000/wps", "not in the list of allowed data hosts"},
		{"https://dap.example.org/x.nc", "not in the list"}, // the allowed entry names port 8443
		{"http://user:pw@esgf.example.org/x.nc", "credentials"},
		{"ftp://esgf.example.org/x.nc", `scheme "ftp" is not supported`},
		{"gopher://x", "not supported"},
		{filepath.Join(root, "tas.nc") + "\x00", "control characters"},
	}
	for _, c := range refused {
		_, err := a.Resolve(c.uri)
		ae, isAccess := err.(*AccessError)
		if !isAccess || !strings.Contains(ae.Error(), c.want) {
			t.Errorf("Resolve(%q) = %v; want an AccessError containing %q", c.uri, err, c.want)
		}
		// Paths outside the roots must not reveal whether the file exists.
		if isAccess && strings.HasPrefix(c.uri, outside) && strings.Contains(ae.Error(), "no such file") {
			t.Errorf("Resolve(%q) reveals existence outside the roots", c.uri)
		}
	}
	outFile := filepath.Join(root, "sub", "pr.nc")
	self := &Access{Hosts: []string{"wps.example.org", "127.0.0.1"}, Self: []string{"wps.example.org:443", "127.0.0.1:8000"},
		BasePath: "/compute", Roots: []string{root},
		Output: func(token, name string) (string, bool) { return outFile, token == "tok" && name == "x.nc" }}
	// Our own outputs map to their files, by the public or the internal URL.
	for _, uri := range []string{"https://wps.example.org/compute/wps/dap/tok/x.nc", "http://127.0.0.1:8000/compute/wps/outputs/tok/x.nc"} {
		if got, err := self.Resolve(uri); err != nil || got != outFile {
			t.Errorf("Resolve(%q) = %q, %v; want the output's file", uri, got, err)
		}
	}
	for uri, want := range map[string]string{
		"https://wps.example.org/compute/wps/dap/nope/x.nc":                   "is not an output of this server",
		"https://wps.example.org/compute/wps/api/job/1/":                      "not of an output",
		"https://wps.example.org/compute/wps/dap/data/tas.nc":                 "not an output", // data roots not served
		"https://wps.example.org/compute/wps/dap/tok/x.nc/../../../etc/hosts": "not an output",
	} {
		if _, err := self.Resolve(uri); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%q) = %v, want %q", uri, err, want)
		}
	}
	self.DAPDataRoots = true
	if got, err := self.Resolve("https://wps.example.org/compute/wps/dap/data/tas.nc"); err != nil || got != filepath.Join(root, "tas.nc") {
		t.Errorf("served data file: %q %v", got, err)
	}
	if _, err := self.Resolve("https://wps.example.org/compute/wps/dap/data/escape.nc"); err == nil {
		t.Error("a served data path escaped the roots through a symlink")
	}
	if _, err := self.Resolve("http://127.0.0.1:9000/x.nc"); err != nil {
		t.Errorf("another port of an allowed host: %v", err)
	}
	none := &Access{Roots: []string{root}}
	if _, err := none.Resolve("http://esgf.example.org/x.nc"); err == nil || !strings.Contains(err.Error(), "WPS_DATA_HOSTS is empty") {
		t.Errorf("no hosts: %v", err)
	}
}
