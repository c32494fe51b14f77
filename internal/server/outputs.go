package server

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/computewps/computewps/internal/api"
	"github.com/computewps/computewps/internal/jobs"
)

// handleOutput serves /wps/outputs/{token}/{name}: the token is an
// unguessable per-output secret, so the URL itself is the permission, and
// tools that cannot send credentials (ncdump, libnetcdf's #mode=bytes,
// curl) can read it. Byte ranges and HEAD come from http.ServeContent.
func (s *Server) handleOutput(w http.ResponseWriter, r *http.Request, rest string) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(w, "GET, HEAD")
	}
	setOperation(r, "Output")
	token, name, ok := strings.Cut(rest, "/")
	if !ok || token == "" || name == "" || strings.Contains(name, "/") {
		return api.Errorf(http.StatusNotFound, "no such output")
	}
	out, err := s.store.OutputByToken(r.Context(), token)
	if errors.Is(err, jobs.ErrNotFound) || (err == nil && out.Name != name) {
		return api.Errorf(http.StatusNotFound, "no such output; it may have been deleted with its job")
	}
	if err != nil {
		return err
	}
	return s.serveOutput(w, r, out)
}

// serveOutput sends an output file, with byte ranges and HEAD.
func (s *Server) serveOutput(w http.ResponseWriter, r *http.Request, out jobs.Output) error {
	if !filepath.IsLocal(out.Path) {
		return api.Errorf(http.StatusNotFound, "no such output")
	}
	f, err := os.Open(filepath.Join(s.cfg.DataPath, out.Path))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return api.Errorf(http.StatusNotFound, "the file of this output is gone")
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-netcdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+out.Name+`"`)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, out.Name, st.ModTime(), f)
	return nil
}
