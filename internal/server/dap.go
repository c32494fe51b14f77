package server

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/computewps/computewps/internal/api"
	"github.com/computewps/computewps/internal/config"
	"github.com/computewps/computewps/internal/dap"
	"github.com/computewps/computewps/internal/jobs"
	"github.com/computewps/computewps/internal/processes"
)

// NewAccess builds the input allow-list of a server or worker: the data
// roots and hosts, and this server's own URLs mapped to local files.
func NewAccess(cfg *config.Config, store *jobs.Store) *processes.Access {
	basePath := ""
	if u, err := url.Parse(cfg.BaseURL); err == nil {
		basePath = u.Path
	}
	return &processes.Access{
		Roots: cfg.DataRoots, Hosts: cfg.DataHosts, Self: cfg.SelfHosts(), BasePath: basePath,
		DAPDataRoots: cfg.DAPDataRoots,
		Output: func(token, name string) (string, bool) {
			out, err := store.OutputByToken(context.Background(), token)
			if err != nil || out.Name != name || !filepath.IsLocal(out.Path) {
				return "", false
			}
			return filepath.Join(cfg.DataPath, out.Path), true
		},
	}
}

// handleDAP serves /wps/dap/...: every output over OPeNDAP (DAP2) at
// /wps/dap/<token>/<file>, where the bare URL downloads the file, and,
// when enabled, the data roots at /wps/dap/data/<path>.
func (s *Server) handleDAP(w http.ResponseWriter, r *http.Request, rest string) error {
	setOperation(r, "DAP")
	if rel, ok := strings.CutPrefix(rest, "data/"); ok {
		if !s.cfg.DAPDataRoots {
			return api.Errorf(http.StatusNotFound, "this server does not serve its data directories over OPeNDAP (WPS_DAP_DATA_ROOTS)")
		}
		s.dapHandler(func(dataset string) (string, error) {
			for _, root := range s.cfg.DataRoots {
				if p, err := s.access.Resolve(filepath.Join(root, filepath.FromSlash(dataset))); err == nil {
					return p, nil
				}
			}
			return "", fs.ErrNotExist
		}).ServeHTTP(w, stripped(r, rel))
		return nil
	}
	token, name, _ := strings.Cut(rest, "/")
	if out, err := s.store.OutputByToken(r.Context(), token); err == nil && name == out.Name {
		// The dataset URL itself is the file, so one URL serves curl and DAP clients.
		return s.serveOutput(w, r, out)
	} else if err != nil && !errors.Is(err, jobs.ErrNotFound) {
		return err
	}
	if !isDAPRequest(name) {
		return api.Errorf(http.StatusNotFound, "no such output; it may have been deleted with its job")
	}
	s.dapHandler(func(dataset string) (string, error) {
		token, name, ok := strings.Cut(dataset, "/")
		if !ok {
			return "", fs.ErrNotExist
		}
		out, err := s.store.OutputByToken(r.Context(), token)
		if err != nil || out.Name != name || !filepath.IsLocal(out.Path) {
			return "", fs.ErrNotExist
		}
		return filepath.Join(s.cfg.DataPath, out.Path), nil
	}).ServeHTTP(w, stripped(r, rest))
	return nil
}

// isDAPRequest reports whether a path names a DAP2 response (x.nc.dds),
// not a file (x.nc).
func isDAPRequest(p string) bool {
	switch p[strings.LastIndexByte(p, '.')+1:] {
	case "dds", "das", "dods", "ascii", "asc", "html", "ver", "version":
		return true
	}
	return false
}

func (s *Server) dapHandler(resolve dap.Resolver) http.Handler {
	return &dap.Handler{Resolve: resolve, MaxBytes: s.cfg.DAPMaxBytes, Log: s.log}
}

// stripped is r with its path made relative to the DAP mount point.
func stripped(r *http.Request, rel string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + rel
	r2.URL.RawPath = ""
	return r2
}
