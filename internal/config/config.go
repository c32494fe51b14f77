// Package config reads every ComputeWPS setting from the environment and
// checks them all at once, so a bad deployment fails with one message that
// lists every problem.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a server or worker process.
type Config struct {
	Addr    string // WPS_ADDR: listen address
	BaseURL string // WPS_BASE_URL: scheme://host[:port][/prefix] used in every absolute URL we emit

	AuthEnabled       bool          // AUTH_ENABLED
	KeycloakURL       string        // AUTH_KEYCLOAK_URL
	KeycloakRealm     string        // AUTH_KEYCLOAK_REALM
	OIDCIssuer        string        // AUTH_OIDC_ISSUER
	KeycloakClientID  string        // AUTH_KEYCLOAK_CLIENT_ID
	KeycloakSecret    string        // AUTH_KEYCLOAK_CLIENT_SECRET
	IntrospectionURL  string        // AUTH_INTROSPECTION_URL
	RegAccessToken    string        // AUTH_KEYCLOAK_REG_ACCESS_TOKEN
	RegistrationURL   string        // AUTH_REGISTRATION_URL
	Registration      string        // AUTH_REGISTRATION: openid-connect or default
	RequiredRealmRole string        // AUTH_REQUIRED_REALM_ROLE
	RequiredRole      string        // AUTH_REQUIRED_CLIENT_ROLE
	RequiredScope     string        // AUTH_REQUIRED_SCOPE
	Decisions         bool          // AUTH_KEYCLOAK_DECISIONS
	CacheTTL          time.Duration // AUTH_CACHE_TTL
	InactiveCacheTTL  time.Duration // AUTH_INACTIVE_CACHE_TTL
	SecretKey         string        // AUTH_SECRET_KEY
	SessionTTL        time.Duration // AUTH_SESSION_TTL
	AnonymousUserName string        // WPS_ANONYMOUS_USER: the single user of AUTH_ENABLED=false

	DataPath    string // DATA_PATH: job store (SQLite) and outputs
	DatabaseURL string // DATABASE_URL: empty means SQLite under DataPath
	Workers     int    // WPS_WORKERS: jobs run at once by this process

	JobLease       time.Duration // WPS_JOB_LEASE: how long a dead worker's job waits before another worker runs it
	JobAttempts    int           // WPS_JOB_ATTEMPTS: starts of a job before it fails because its workers kept dying
	JobRetention   time.Duration // WPS_JOB_RETENTION: how long finished jobs and outputs are kept; 0 forever
	UserMaxRunning int           // WPS_USER_MAX_RUNNING: one user's jobs running at once; 0 no limit
	UserMaxQueued  int           // WPS_USER_MAX_QUEUED: one user's jobs waiting to run; 0 no limit
	UserMaxStorage int64         // WPS_USER_MAX_STORAGE: bytes of outputs one user may keep; 0 no limit

	DataRoots []string // WPS_DATA_ROOTS: local directories inputs may be read from
	DataHosts []string // WPS_DATA_HOSTS: hosts (host or host:port) remote inputs may come from

	MaxBodyBytes int64         // WPS_MAX_BODY_BYTES: largest accepted request body
	SyncTimeout  time.Duration // WPS_SYNC_TIMEOUT: how long a status=false Execute waits for its job
	SlabBytes    int64         // WPS_SLAB_BYTES: memory for one slab of data read or written
	ReadProcs    int           // WPS_READ_PROCESSES: reader processes for deflated inputs; 1 reads in this process
	MaxReadBytes int64         // WPS_MAX_READ_BYTES: most a job may read from its inputs (estimated before it runs)
	PageSize     int           // WPS_API_PAGE_SIZE: default page size of the job list
	MetricsAddr  string        // WPS_METRICS_ADDR: where a worker process serves its metrics
	OutputURI    string        // WPS_OUTPUT_URI: dap or http, the kind of URL outputs get
	DAPMaxBytes  int64         // WPS_DAP_MAX_BYTES: largest OPeNDAP data response
	DAPDataRoots bool          // WPS_DAP_DATA_ROOTS: also serve the data roots over OPeNDAP

	LogFormat string // WPS_LOG_FORMAT: json or text
	LogLevel  string // WPS_LOG_LEVEL: debug, info, warn, error

	Service Service // WPS_TITLE, WPS_ABSTRACT, ...
}

// Service is what GetCapabilities says about the service and its provider.
type Service struct {
	Title, Abstract            string
	Keywords                   []string
	ProviderName, ProviderSite string
	ContactName, ContactEmail  string
}

// Var documents one environment variable; the README table is generated from Vars.
type Var struct {
	Name, Default, Help string
}

// Vars lists every setting with its default, in the order of the README table.
var Vars = []Var{
	{"WPS_ADDR", "127.0.0.1:8000", "Address the HTTP server listens on."},
	{"WPS_BASE_URL", "http://<WPS_ADDR>", "Public base URL (scheme, host, optional path prefix) used in every absolute URL the server emits: statusLocation, output URIs, job links. Set it when the server sits behind a proxy."},
	{"AUTH_ENABLED", "true", "`false` switches authentication off: every request belongs to one anonymous user. With `true` an identity provider must be configured."},
	{"AUTH_KEYCLOAK_URL", "", "KeyCloak base URL (may end in `/auth`); with AUTH_KEYCLOAK_REALM it gives the issuer `{url}/realms/{realm}`."},
	{"AUTH_KEYCLOAK_REALM", "", "KeyCloak realm."},
	{"AUTH_OIDC_ISSUER", "", "Issuer URL of any other standard OpenID Connect provider (instead of the two above)."},
	{"AUTH_KEYCLOAK_CLIENT_ID", "", "The server's own confidential client (token introspection, browser login)."},
	{"AUTH_KEYCLOAK_CLIENT_SECRET", "", "Secret of that client. Never logged."},
	{"AUTH_INTROSPECTION_URL", "", "Overrides the discovered token introspection endpoint."},
	{"AUTH_KEYCLOAK_REG_ACCESS_TOKEN", "", "Initial access token for dynamic client registration (KeyCloak realm setting). Empty: register anonymously. Never logged."},
	{"AUTH_REGISTRATION_URL", "", "Overrides the discovered client registration endpoint (Hydra does not advertise its own)."},
	{"AUTH_REGISTRATION", "openid-connect", "`openid-connect` (RFC 7591, from discovery; KeyCloak's clients-registrations/openid-connect) or `default` (KeyCloak's clients-registrations/default)."},
	{"AUTH_REQUIRED_REALM_ROLE", "", "A realm role every token must carry (KeyCloak `realm_access.roles`)."},
	{"AUTH_REQUIRED_CLIENT_ROLE", "", "A client role every token must carry: `client:role`, or `role` of AUTH_KEYCLOAK_CLIENT_ID (`resource_access`)."},
	{"AUTH_REQUIRED_SCOPE", "", "A scope every token must carry."},
	{"AUTH_KEYCLOAK_DECISIONS", "false", "`true`: ask KeyCloak Authorization Services for a decision on `<process>#execute` at every Execute (UMA grant, decision mode)."},
	{"AUTH_CACHE_TTL", "5m", "Longest time an introspection or decision answer is reused (never past the token's expiry)."},
	{"AUTH_INACTIVE_CACHE_TTL", "10s", "How long a token found inactive is remembered as such."},
	{"AUTH_SECRET_KEY", "", "32 bytes in base64 that seal session cookies and stored registration tokens. Empty: a key is generated once in `DATA_PATH/auth.key`."},
	{"AUTH_SESSION_TTL", "8h", "Length of a browser session after login."},
	{"WPS_ANONYMOUS_USER", "anonymous", "Name of the single user when AUTH_ENABLED=false."},
	{"DATA_PATH", "./data", "Directory for the SQLite job store and the outputs (`DATA_PATH/<user id>/<job id>/`)."},
	{"DATABASE_URL", "", "Job store. Empty: SQLite at `DATA_PATH/compute-wps.db`; `sqlite:///path.db` also accepted. `postgres://user:password@host:5432/db` (any libpq URL parameters) for PostgreSQL, shared by the server and any number of `compute-wps worker` processes on machines that mount the same DATA_PATH; run `compute-wps migrate` once per upgrade."},
	{"WPS_WORKERS", "number of CPUs", "Jobs this process runs at once (`serve` and `worker`)."},
	{"WPS_JOB_LEASE", "1m", "A running job is leased to its worker, which renews the lease every quarter of it. When a worker dies (killed, out of memory, machine lost), its jobs run again from the start on another worker once their lease expires. Longer: slower recovery; shorter: more database writes. At least 1s."},
	{"WPS_JOB_ATTEMPTS", "3", "How many times a job is started before it fails because the workers running it kept dying. A job handed back at shutdown does not use up an attempt."},
	{"WPS_JOB_RETENTION", "720h", "How long finished jobs, their records and output files are kept (from when they finished); a periodic task removes older ones, and the job API shows each job's expiry time. `0`: keep forever."},
	{"WPS_USER_MAX_RUNNING", "0", "Most jobs of one user running at once, over all workers; further jobs of theirs wait while other users' jobs run. `0`: no limit beyond the workers. Whatever the limit, a free worker takes the job of the user running the fewest jobs, so one user's flood does not hold up others."},
	{"WPS_USER_MAX_QUEUED", "20", "Most jobs one user may have waiting to run; a further Execute is refused with an ExceptionReport naming the numbers. `0`: no limit."},
	{"WPS_USER_MAX_STORAGE", "10GiB", "Most output data one user may keep; once their outputs reach it, Execute is refused until they dismiss (delete) jobs. Units as for WPS_MAX_READ_BYTES; `0`: no limit."},
	{"WPS_DATA_ROOTS", "", "Comma-separated local directories that input URIs (paths or `file://` URLs) may point into. Nothing else on the local disk can be read."},
	{"WPS_DATA_HOSTS", "", "Comma-separated hosts (`host` or `host:port`) that remote input URLs (OPeNDAP, HTTP) may point to. Empty: no remote inputs."},
	{"WPS_MAX_BODY_BYTES", "4194304", "Largest request body accepted (bytes); larger requests get an ExceptionReport."},
	{"WPS_SYNC_TIMEOUT", "30s", "How long an Execute with `status=false` waits for its job before answering with the status document."},
	{"WPS_SLAB_BYTES", "8388608", "Memory for one slab of data (bytes); operators stream their inputs in slabs of this size. 8 MiB measured fastest: slabs that stay in the CPU caches beat fewer, larger reads."},
	{"WPS_READ_PROCESSES", "number of CPUs", "Reader processes that inflate deflated (compressed) local inputs in parallel, shared by the jobs of this process (`serve` or `worker`): libnetcdf inflates one chunk at a time per process. `1` reads in the job's own process."},
	{"WPS_MAX_READ_BYTES", "20GiB", "Most data a job may read from its inputs, estimated from the request before anything is read; a larger job fails at once with the estimate in its message. Units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB; 0 for no limit."},
	{"WPS_OUTPUT_URI", "dap", "`dap`: an output's `uri` is its OPeNDAP (DAP2) URL, which xarray, ncdump and libnetcdf read in place (the same URL downloads the file); `http`: the plain download URL."},
	{"WPS_DAP_MAX_BYTES", "512MiB", "Largest OPeNDAP data response (`.dods`, `.ascii`); a larger request gets a DAP error naming both sizes."},
	{"WPS_DAP_DATA_ROOTS", "false", "`true`: also serve the files under WPS_DATA_ROOTS over OPeNDAP at `/wps/dap/data/<path relative to a root>`."},
	{"WPS_METRICS_ADDR", "", "Address where `compute-wps worker` serves its Prometheus metrics at `/metrics` (the server's are at `/wps/api/metrics`). Empty: not served."},
	{"WPS_API_PAGE_SIZE", "50", "Default page size of `GET /wps/api/job/`."},
	{"WPS_LOG_FORMAT", "json", "`json` or `text`."},
	{"WPS_LOG_LEVEL", "info", "`debug`, `info`, `warn` or `error`."},
	{"WPS_TITLE", "ComputeWPS", "Service title in GetCapabilities."},
	{"WPS_ABSTRACT", "Climate computations on CF NetCDF data, next to the data.", "Service abstract in GetCapabilities."},
	{"WPS_KEYWORDS", "WPS,climate,CF,NetCDF", "Comma-separated keywords in GetCapabilities."},
	{"WPS_PROVIDER_NAME", "", "Provider name in GetCapabilities."},
	{"WPS_PROVIDER_SITE", "", "Provider web site in GetCapabilities."},
	{"WPS_CONTACT_NAME", "", "Contact person in GetCapabilities."},
	{"WPS_CONTACT_EMAIL", "", "Contact e-mail in GetCapabilities."},
}

// Load reads the configuration from getenv (os.Getenv when nil) and validates it.
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	r := reader{getenv: getenv}
	c := &Config{
		Addr:              r.str("WPS_ADDR"),
		AuthEnabled:       r.boolean("AUTH_ENABLED"),
		KeycloakURL:       strings.TrimRight(r.str("AUTH_KEYCLOAK_URL"), "/"),
		KeycloakRealm:     r.str("AUTH_KEYCLOAK_REALM"),
		OIDCIssuer:        r.str("AUTH_OIDC_ISSUER"),
		KeycloakClientID:  r.str("AUTH_KEYCLOAK_CLIENT_ID"),
		KeycloakSecret:    r.str("AUTH_KEYCLOAK_CLIENT_SECRET"),
		IntrospectionURL:  r.str("AUTH_INTROSPECTION_URL"),
		RegAccessToken:    r.str("AUTH_KEYCLOAK_REG_ACCESS_TOKEN"),
		RegistrationURL:   r.str("AUTH_REGISTRATION_URL"),
		Registration:      r.str("AUTH_REGISTRATION"),
		RequiredRealmRole: r.str("AUTH_REQUIRED_REALM_ROLE"),
		RequiredRole:      r.str("AUTH_REQUIRED_CLIENT_ROLE"),
		RequiredScope:     r.str("AUTH_REQUIRED_SCOPE"),
		Decisions:         r.boolean("AUTH_KEYCLOAK_DECISIONS"),
		CacheTTL:          r.duration("AUTH_CACHE_TTL"),
		InactiveCacheTTL:  r.duration("AUTH_INACTIVE_CACHE_TTL"),
		SecretKey:         r.str("AUTH_SECRET_KEY"),
		SessionTTL:        r.duration("AUTH_SESSION_TTL"),
		AnonymousUserName: r.str("WPS_ANONYMOUS_USER"),
		DataPath:          r.str("DATA_PATH"),
		DatabaseURL:       r.str("DATABASE_URL"),
		Workers:           r.integer("WPS_WORKERS"),
		JobLease:          r.duration("WPS_JOB_LEASE"),
		JobAttempts:       r.integer("WPS_JOB_ATTEMPTS"),
		JobRetention:      r.duration("WPS_JOB_RETENTION"),
		UserMaxRunning:    r.integer("WPS_USER_MAX_RUNNING"),
		UserMaxQueued:     r.integer("WPS_USER_MAX_QUEUED"),
		UserMaxStorage:    r.size("WPS_USER_MAX_STORAGE"),
		DataRoots:         r.list("WPS_DATA_ROOTS"),
		DataHosts:         r.list("WPS_DATA_HOSTS"),
		MaxBodyBytes:      r.size("WPS_MAX_BODY_BYTES"),
		SyncTimeout:       r.duration("WPS_SYNC_TIMEOUT"),
		SlabBytes:         r.size("WPS_SLAB_BYTES"),
		ReadProcs:         r.integer("WPS_READ_PROCESSES"),
		MaxReadBytes:      r.size("WPS_MAX_READ_BYTES"),
		PageSize:          r.integer("WPS_API_PAGE_SIZE"),
		MetricsAddr:       r.str("WPS_METRICS_ADDR"),
		OutputURI:         r.str("WPS_OUTPUT_URI"),
		DAPMaxBytes:       r.size("WPS_DAP_MAX_BYTES"),
		DAPDataRoots:      r.boolean("WPS_DAP_DATA_ROOTS"),
		LogFormat:         r.str("WPS_LOG_FORMAT"),
		LogLevel:          r.str("WPS_LOG_LEVEL"),
		Service: Service{
			Title:        r.str("WPS_TITLE"),
			Abstract:     r.str("WPS_ABSTRACT"),
			Keywords:     r.list("WPS_KEYWORDS"),
			ProviderName: r.str("WPS_PROVIDER_NAME"),
			ProviderSite: r.str("WPS_PROVIDER_SITE"),
			ContactName:  r.str("WPS_CONTACT_NAME"),
			ContactEmail: r.str("WPS_CONTACT_EMAIL"),
		},
	}
	c.BaseURL = strings.TrimRight(r.str("WPS_BASE_URL"), "/")
	if c.BaseURL == "" || c.BaseURL == "http://<WPS_ADDR>" {
		c.BaseURL = "http://" + c.Addr
	}
	if c.Workers == 0 && getenv("WPS_WORKERS") == "" {
		c.Workers = runtime.NumCPU()
	}
	if c.ReadProcs == 0 && strings.TrimSpace(getenv("WPS_READ_PROCESSES")) == "" {
		c.ReadProcs = runtime.NumCPU()
	}
	problems := append(r.problems, c.validate()...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	if abs, err := filepath.Abs(c.DataPath); err == nil {
		c.DataPath = abs
	}
	for i, root := range c.DataRoots {
		if abs, err := filepath.Abs(root); err == nil {
			c.DataRoots[i] = filepath.Clean(abs)
		}
	}
	return c, nil
}

// Error lists every configuration problem found.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

func (c *Config) validate() []string {
	var p []string
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		p = append(p, fmt.Sprintf("WPS_ADDR %q is not host:port", c.Addr))
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		p = append(p, fmt.Sprintf("WPS_BASE_URL %q must be an absolute http(s) URL without a query", c.BaseURL))
	}
	if c.AuthEnabled {
		hasKeycloak := c.KeycloakURL != "" || c.KeycloakRealm != ""
		switch {
		case !hasKeycloak && c.OIDCIssuer == "":
			p = append(p, "AUTH_ENABLED is true (the default) but no identity provider is configured: "+
				"set AUTH_KEYCLOAK_URL and AUTH_KEYCLOAK_REALM (or AUTH_OIDC_ISSUER), or set AUTH_ENABLED=false to run without authentication")
		case hasKeycloak && (c.KeycloakURL == "" || c.KeycloakRealm == ""):
			p = append(p, "AUTH_KEYCLOAK_URL and AUTH_KEYCLOAK_REALM must be set together")
		case hasKeycloak && c.OIDCIssuer != "":
			p = append(p, "set either AUTH_KEYCLOAK_URL/AUTH_KEYCLOAK_REALM or AUTH_OIDC_ISSUER, not both")
		}
		if c.KeycloakClientID == "" || c.KeycloakSecret == "" {
			p = append(p, "AUTH_KEYCLOAK_CLIENT_ID and AUTH_KEYCLOAK_CLIENT_SECRET must name the server's own confidential client (token introspection and browser login)")
		}
		for name, v := range map[string]string{"AUTH_KEYCLOAK_URL": c.KeycloakURL, "AUTH_OIDC_ISSUER": c.OIDCIssuer, "AUTH_INTROSPECTION_URL": c.IntrospectionURL, "AUTH_REGISTRATION_URL": c.RegistrationURL} {
			if v == "" {
				continue
			}
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p = append(p, fmt.Sprintf("%s %q must be an absolute http(s) URL", name, v))
			}
		}
	}
	if c.Registration != "openid-connect" && c.Registration != "default" {
		p = append(p, fmt.Sprintf("AUTH_REGISTRATION must be openid-connect or default, got %q", c.Registration))
	}
	if c.CacheTTL < 0 || c.InactiveCacheTTL < 0 || c.SessionTTL <= 0 {
		p = append(p, "AUTH_CACHE_TTL and AUTH_INACTIVE_CACHE_TTL must not be negative, AUTH_SESSION_TTL must be positive")
	}
	if c.DataPath == "" {
		p = append(p, "DATA_PATH must not be empty")
	}
	if c.Workers < 0 {
		p = append(p, fmt.Sprintf("WPS_WORKERS must be at least 0, got %d", c.Workers))
	}
	if c.JobLease < time.Second {
		p = append(p, fmt.Sprintf("WPS_JOB_LEASE must be at least 1s, got %v", c.JobLease))
	}
	if c.JobAttempts < 1 {
		p = append(p, fmt.Sprintf("WPS_JOB_ATTEMPTS must be at least 1, got %d", c.JobAttempts))
	}
	if c.JobRetention < 0 || c.UserMaxRunning < 0 || c.UserMaxQueued < 0 {
		p = append(p, "WPS_JOB_RETENTION, WPS_USER_MAX_RUNNING and WPS_USER_MAX_QUEUED must not be negative")
	}
	for _, root := range c.DataRoots {
		if strings.Contains(root, "://") {
			p = append(p, fmt.Sprintf("WPS_DATA_ROOTS entry %q must be a directory, not a URL", root))
		}
	}
	for _, h := range c.DataHosts {
		if strings.ContainsAny(h, "/ ") || h == "" {
			p = append(p, fmt.Sprintf("WPS_DATA_HOSTS entry %q must be a host name or host:port", h))
		}
	}
	if c.MaxBodyBytes < 1024 {
		p = append(p, fmt.Sprintf("WPS_MAX_BODY_BYTES must be at least 1024, got %d", c.MaxBodyBytes))
	}
	if c.SyncTimeout < 0 {
		p = append(p, "WPS_SYNC_TIMEOUT must not be negative")
	}
	if c.ReadProcs < 1 {
		p = append(p, fmt.Sprintf("WPS_READ_PROCESSES must be at least 1, got %d", c.ReadProcs))
	}
	if c.SlabBytes < 1<<16 {
		p = append(p, fmt.Sprintf("WPS_SLAB_BYTES must be at least 65536, got %d", c.SlabBytes))
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		p = append(p, fmt.Sprintf("WPS_API_PAGE_SIZE must be between 1 and 1000, got %d", c.PageSize))
	}
	if c.OutputURI != "dap" && c.OutputURI != "http" {
		p = append(p, fmt.Sprintf("WPS_OUTPUT_URI must be dap or http, got %q", c.OutputURI))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		p = append(p, fmt.Sprintf("WPS_LOG_FORMAT must be json or text, got %q", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Sprintf("WPS_LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel))
	}
	if c.AnonymousUserName == "" {
		p = append(p, "WPS_ANONYMOUS_USER must not be empty")
	}
	return p
}

// reader turns strings into typed values, collecting problems instead of stopping at the first.
type reader struct {
	getenv   func(string) string
	problems []string
}

func defaultOf(name string) string {
	for _, v := range Vars {
		if v.Name == name {
			return v.Default
		}
	}
	panic("config: undocumented variable " + name)
}

func (r *reader) str(name string) string {
	if v, ok := r.lookup(name); ok {
		return v
	}
	return defaultOf(name)
}

func (r *reader) lookup(name string) (string, bool) {
	v := strings.TrimSpace(r.getenv(name))
	return v, v != ""
}

func (r *reader) boolean(name string) bool {
	v := r.str(name)
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s must be true or false, got %q", name, v))
	}
	return b
}

func (r *reader) integer(name string) int {
	v, ok := r.lookup(name)
	if !ok {
		v = defaultOf(name)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		if !ok { // a descriptive default such as "number of CPUs"
			return 0
		}
		r.problems = append(r.problems, fmt.Sprintf("%s must be an integer, got %q", name, v))
	}
	return n
}

// size reads a byte count with an optional unit (decimal KB/MB/GB/TB or
// binary KiB/MiB/GiB/TiB).
func (r *reader) size(name string) int64 {
	v := strings.TrimSpace(r.str(name))
	i := strings.IndexFunc(v, func(c rune) bool { return (c < '0' || c > '9') && c != '.' })
	num, unit := v, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(v[:i]), strings.TrimSpace(v[i:])
	}
	mult := map[string]float64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}[strings.ToUpper(unit)]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f < 0 {
		r.problems = append(r.problems, fmt.Sprintf("%s must be a size such as 500MB or 20GiB, got %q", name, v))
		return 0
	}
	return int64(f * mult)
}

func (r *reader) duration(name string) time.Duration {
	v := r.str(name)
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, err2 := strconv.Atoi(v); err2 == nil { // plain seconds
			return time.Duration(n) * time.Second
		}
		r.problems = append(r.problems, fmt.Sprintf("%s must be a duration such as 30s or 2m, got %q", name, v))
	}
	return d
}

func (r *reader) list(name string) []string {
	var out []string
	for _, s := range strings.Split(r.str(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// SelfHosts returns this server's own host:port pairs: the base URL's and
// the listen address (with 127.0.0.1 and localhost for a wildcard address).
func (c *Config) SelfHosts() []string {
	var hosts []string
	if u, err := url.Parse(c.BaseURL); err == nil {
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		hosts = append(hosts, net.JoinHostPort(u.Hostname(), port))
	}
	if h, p, err := net.SplitHostPort(c.Addr); err == nil {
		if h == "" || h == "0.0.0.0" || h == "::" {
			hosts = append(hosts, net.JoinHostPort("127.0.0.1", p), net.JoinHostPort("localhost", p), net.JoinHostPort("::1", p))
		} else {
			hosts = append(hosts, net.JoinHostPort(h, p))
		}
	}
	return hosts
}

// Issuer is the OpenID Connect issuer of the identity provider.
func (c *Config) Issuer() string {
	if c.KeycloakURL != "" {
		return c.KeycloakURL + "/realms/" + c.KeycloakRealm
	}
	return strings.TrimRight(c.OIDCIssuer, "/")
}
