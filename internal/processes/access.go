package processes

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Access is the allow-list for input URIs: local files only under Roots,
// remote data only from Hosts. It is what stops a request from making the
// server read its own disk or reach into the internal network.
type Access struct {
	Roots []string // absolute, cleaned directories
	Hosts []string // "host" or "host:port"
	// Self lists this server's own host:port (its base URL and listen
	// address). Our own URLs are never read over HTTP (libnetcdf would wait
	// on this very process): outputs and served data map to local files.
	Self []string
	// BasePath is the path the server is mounted under (WPS_BASE_URL's).
	BasePath string
	// Output finds the file of an output from its URL's token and name.
	Output func(token, name string) (path string, ok bool)
	// DAPDataRoots says /wps/dap/data/<path> serves files under Roots.
	DAPDataRoots bool
}

// AccessError is a refused or unusable input URI; its text is for the user.
type AccessError struct {
	URI  string
	Text string
}

func (e *AccessError) Error() string { return fmt.Sprintf("input %q: %s", e.URI, e.Text) }

// Resolve checks uri against the allow-list and returns what to hand to
// libnetcdf: a local path, or the URL unchanged.
func (a *Access) Resolve(uri string) (string, error) {
	refuse := func(format string, args ...any) (string, error) {
		return "", &AccessError{URI: uri, Text: fmt.Sprintf(format, args...)}
	}
	if strings.ContainsAny(uri, "\x00\r\n") {
		return refuse("contains control characters")
	}
	u, err := url.Parse(uri)
	if err != nil {
		return refuse("is not a valid URI")
	}
	switch strings.ToLower(u.Scheme) {
	case "":
		return a.local(uri, uri)
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return refuse("file URLs must not name a host")
		}
		return a.local(uri, u.Path)
	case "http", "https":
		if u.User != nil {
			return refuse("credentials in URLs are not accepted")
		}
		if a.isSelf(u) {
			return a.own(uri, u)
		}
		if !a.hostAllowed(u) {
			if len(a.Hosts) == 0 {
				return refuse("remote data is not allowed on this server (WPS_DATA_HOSTS is empty)")
			}
			return refuse("host %q is not in the list of allowed data hosts (%s)", u.Host, strings.Join(a.Hosts, ", "))
		}
		return uri, nil
	}
	return refuse("scheme %q is not supported; use a path, file://, http:// or https://", u.Scheme)
}

func (a *Access) hostAllowed(u *url.URL) bool {
	host, port := u.Hostname(), u.Port()
	for _, h := range a.Hosts {
		hh, hp, err := net.SplitHostPort(h)
		if err != nil { // no port: any port of that host
			if strings.EqualFold(h, host) {
				return true
			}
			continue
		}
		if strings.EqualFold(hh, host) && hp == port {
			return true
		}
	}
	return false
}

// own maps a URL of this server to the local file behind it: an output
// (/wps/dap/<token>/<name>, /wps/outputs/<token>/<name>) or, when served,
// a file under the data roots (/wps/dap/data/<path>). A proxy's rewriting
// does not matter: only the path below WPS_BASE_URL's is looked at.
func (a *Access) own(uri string, u *url.URL) (string, error) {
	p := strings.TrimPrefix(u.Path, strings.TrimRight(a.BasePath, "/"))
	if rel, ok := strings.CutPrefix(p, "/wps/dap/data/"); ok && a.DAPDataRoots {
		for _, root := range a.Roots {
			if path, err := a.local(uri, filepath.Join(root, filepath.FromSlash(rel))); err == nil {
				return path, nil
			}
		}
		return "", &AccessError{URI: uri, Text: "no such file among the data this server serves"}
	}
	for _, prefix := range []string{"/wps/dap/", "/wps/outputs/"} {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		token, name, ok := strings.Cut(rest, "/")
		if ok && a.Output != nil && !strings.Contains(name, "/") {
			if path, found := a.Output(token, name); found {
				return path, nil
			}
		}
		return "", &AccessError{URI: uri, Text: "is not an output of this server (it may have been deleted with its job)"}
	}
	return "", &AccessError{URI: uri, Text: "is a URL of this server but not of an output or served data file"}
}

func (a *Access) isSelf(u *url.URL) bool {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	for _, s := range a.Self {
		h, p, err := net.SplitHostPort(s)
		if err == nil && strings.EqualFold(h, u.Hostname()) && p == port {
			return true
		}
	}
	return false
}

// local accepts an absolute path that, with symbolic links resolved, lies
// under one of the roots. Paths outside the roots are refused without
// saying whether they exist.
func (a *Access) local(uri, path string) (string, error) {
	if path == "" || !filepath.IsAbs(path) {
		return "", &AccessError{URI: uri, Text: "a local input must be an absolute path or a file:// URL"}
	}
	clean := filepath.Clean(path)
	if !a.underRoot(clean) {
		return "", &AccessError{URI: uri, Text: "is outside the data directories this server may read"}
	}
	real, err := filepath.EvalSymlinks(clean)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", &AccessError{URI: uri, Text: "no such file"}
		}
		return "", &AccessError{URI: uri, Text: "cannot be read"}
	}
	if !a.underRoot(real) {
		return "", &AccessError{URI: uri, Text: "is outside the data directories this server may read"}
	}
	st, err := os.Stat(real)
	if err != nil || st.IsDir() {
		return "", &AccessError{URI: uri, Text: "is not a file"}
	}
	return real, nil
}

func (a *Access) underRoot(p string) bool {
	for _, root := range a.Roots {
		r := root
		if real, err := filepath.EvalSymlinks(root); err == nil {
			r = real
		}
		for _, cand := range []string{root, r} {
			if p == cand || strings.HasPrefix(p, strings.TrimRight(cand, string(filepath.Separator))+string(filepath.Separator)) {
				return true
			}
		}
	}
	return false
}
