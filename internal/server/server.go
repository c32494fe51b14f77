// Package server wires the HTTP side of ComputeWPS: routes, middleware
// (request id, logging, metrics, body limits, authentication) and the
// handlers that connect the WPS protocol, the job store and the job API.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/computewps/computewps/internal/api"
	"github.com/computewps/computewps/internal/auth"
	"github.com/computewps/computewps/internal/config"
	"github.com/computewps/computewps/internal/jobs"
	"github.com/computewps/computewps/internal/metrics"
	"github.com/computewps/computewps/internal/processes"
	"github.com/computewps/computewps/internal/worker"
)

// Server is the HTTP service.
type Server struct {
	cfg       *config.Config
	store     *jobs.Store
	cat       *processes.Catalogue
	access    *processes.Access
	authn     auth.Authenticator
	login     *auth.Login     // nil when authentication is off
	registrar *auth.Registrar // nil when authentication is off
	log       *slog.Logger
	version   string
	api       *api.Handler
	urls      urls
	metrics   *metrics.Metrics
}

// Options are the parts a Server is built from.
type Options struct {
	Config        *config.Config
	Store         *jobs.Store
	Catalogue     *processes.Catalogue
	Access        *processes.Access
	Authenticator auth.Authenticator
	Login         *auth.Login
	Registrar     *auth.Registrar
	Logger        *slog.Logger
	Version       string
	Metrics       *metrics.Metrics // nil: new metrics
}

// New builds a Server.
func New(o Options) *Server {
	s := &Server{
		cfg: o.Config, store: o.Store, cat: o.Catalogue, access: o.Access, authn: o.Authenticator,
		login: o.Login, registrar: o.Registrar, log: o.Logger, version: o.Version, urls: urls{base: o.Config.BaseURL, dap: o.Config.OutputURI == "dap"},
	}
	s.api = &api.Handler{Store: s.store, URLs: s.urls, DataPath: s.cfg.DataPath, PageSize: s.cfg.PageSize, Log: s.log}
	s.metrics = o.Metrics
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	return s
}

// Handler returns the root handler with every route and middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/wps", s.route("wps", s.handleWPS))
	mux.Handle("/wps/", s.route("wps", s.dispatch))
	// The reference emitted /wpsapi/... links; old clients rewrite them but
	// may still call them.
	mux.Handle("/wpsapi/", s.route("api", func(w http.ResponseWriter, r *http.Request) error {
		r.URL.Path = "/wps/api/" + strings.TrimPrefix(r.URL.Path, "/wpsapi/")
		return s.dispatch(w, r)
	}))
	mux.Handle("/wpsauth/", s.route("auth", func(w http.ResponseWriter, r *http.Request) error {
		r.URL.Path = "/wps/auth/" + strings.TrimPrefix(r.URL.Path, "/wpsauth/")
		return s.dispatch(w, r)
	}))
	mux.Handle("/", s.route("other", func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/wps?service=WPS&request=GetCapabilities", http.StatusFound)
			return nil
		}
		return api.Errorf(http.StatusNotFound, "no such page: %s", r.URL.Path)
	}))
	return s.withRequestID(s.withRecover(mux))
}

// dispatch routes everything under /wps/.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) error {
	p := r.URL.Path
	switch {
	case p == "/wps/":
		return s.handleWPS(w, r)
	case p == "/wps/api/ping" || p == "/wps/api/ping/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return methodNotAllowed(w, "GET, HEAD")
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("pong"))
		return nil
	case p == "/wps/api/ready" || p == "/wps/api/ready/":
		// Readiness: the job store must answer; liveness is /wps/api/ping.
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.store.Ping(ctx); err != nil {
			s.logFrom(r).Warn("not ready: the job store does not answer", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: the job store does not answer"))
			return nil
		}
		_, _ = w.Write([]byte("ready"))
		return nil
	case p == "/wps/api/metrics" || p == "/wps/api/metrics/":
		s.metrics.Handler().ServeHTTP(w, r)
		return nil
	case p == "/wps/api/job/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return methodNotAllowed(w, "GET, HEAD")
		}
		user, err := s.user(r)
		if err != nil {
			return err
		}
		return s.api.List(w, r, user)
	case strings.HasPrefix(p, "/wps/api/job/"):
		return s.handleJob(w, r, strings.TrimPrefix(p, "/wps/api/job/"))
	case strings.HasPrefix(p, "/wps/api/status/"):
		return s.handleStatus(w, r, strings.TrimPrefix(p, "/wps/api/status/"))
	case strings.HasPrefix(p, "/wps/outputs/"):
		return s.handleOutput(w, r, strings.TrimPrefix(p, "/wps/outputs/"))
	case strings.HasPrefix(p, "/wps/dap/"):
		return s.handleDAP(w, r, strings.TrimPrefix(p, "/wps/dap/"))
	case strings.HasPrefix(p, "/wps/auth/"):
		return s.handleAuth(w, r, strings.TrimPrefix(p, "/wps/auth/"))
	}
	return api.Errorf(http.StatusNotFound, "no such page: %s", p)
}

// parseDetail splits "17/", "17.json", "17.wps/" into the id and format,
// the way the reference's routes accepted them.
func parseDetail(rest string) (int64, string, bool) {
	rest = strings.TrimSuffix(rest, "/")
	format := ""
	if i := strings.LastIndexByte(rest, '.'); i >= 0 {
		format, rest = rest[i+1:], rest[:i]
		if format != "json" && format != "wps" {
			return 0, "", false
		}
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return 0, "", false
	}
	return id, format, true
}

func (s *Server) handleJob(w http.ResponseWriter, r *http.Request, rest string) error {
	if idText, ok := strings.CutSuffix(strings.TrimSuffix(rest, "/"), "/provenance"); ok {
		return s.handleProvenance(w, r, idText)
	}
	id, format, ok := parseDetail(rest)
	if !ok {
		return api.Errorf(http.StatusNotFound, "no such job: %s", rest)
	}
	if format == "" {
		format = r.URL.Query().Get("format")
	}
	if format == "" && prefersXML(r) {
		format = "wps"
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if format == "wps" {
			return s.handleStatusDocument(w, r, id)
		}
		user, err := s.user(r)
		if err != nil {
			return err
		}
		return s.api.Get(w, r, user, id)
	case http.MethodDelete:
		user, err := s.user(r)
		if err != nil {
			return err
		}
		return s.api.Delete(w, r, user, id)
	}
	return methodNotAllowed(w, "GET, HEAD, DELETE")
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, rest string) error {
	id, _, ok := parseDetail(rest)
	if !ok {
		return api.Errorf(http.StatusNotFound, "no such status: %s", rest)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(w, "GET, HEAD")
	}
	user, err := s.user(r)
	if err != nil {
		return err
	}
	return s.api.Status(w, r, user, id)
}

// handleProvenance serves the W3C PROV-JSON document of a job to its owner.
func (s *Server) handleProvenance(w http.ResponseWriter, r *http.Request, idText string) error {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return api.Errorf(http.StatusNotFound, "no such job: %s", idText)
	}
	user, err := s.user(r)
	if err != nil {
		return err
	}
	job, err := s.store.Get(r.Context(), user.ID, id)
	if errors.Is(err, jobs.ErrNotFound) {
		return api.Errorf(http.StatusNotFound, "job %d was not found", id)
	}
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(filepath.Join(worker.OutputDir(s.cfg.DataPath, job.UserID, job.ID), worker.ProvenanceFile))
	if err != nil {
		return api.Errorf(http.StatusNotFound, "job %d has no provenance document (it has not succeeded)", id)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
	return nil
}

func prefersXML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "xml") && !strings.Contains(accept, "json")
}

// user authenticates the request and finds (or creates) its user.
func (s *Server) user(r *http.Request) (jobs.User, error) {
	id, err := s.authn.Authenticate(r)
	if err != nil {
		return jobs.User{}, err
	}
	return s.store.User(r.Context(), id.User)
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return api.Errorf(http.StatusMethodNotAllowed, "method not allowed; use %s", allow)
}

// writeAPIError renders errors of the JSON routes.
func (s *Server) writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *auth.Error
	if errors.As(err, &ae) {
		if ae.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="compute-wps"`)
		}
		err = api.Errorf(ae.Status, "%s", ae.Text)
	}
	var p *api.Problem
	if !errors.As(err, &p) {
		s.logFrom(r).Error("request failed", "err", err)
	}
	api.WriteError(w, err)
}
