package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/computewps/computewps/internal/wps"
)

type ctxKey int

const requestIDKey ctxKey = 0

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes X-Request-Id from the caller when it is sane, or
// makes one, and echoes it so logs and user reports can be matched.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) logFrom(r *http.Request) *slog.Logger {
	id, _ := r.Context().Value(requestIDKey).(string)
	return s.log.With("request_id", id)
}

func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logFrom(r).Error("panic", "value", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// route wraps a handler that returns its error: the body size limit, one
// place that renders errors, a log line and the request metrics.
func (s *Server) route(name string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), opKey{}, new(string)))
		r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBodyBytes)
		if err := h(sw, r); err != nil {
			var ex *wps.Exception
			if errors.As(err, &ex) || r.URL.Path == "/wps" || r.URL.Path == "/wps/" || strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), ".wps") {
				s.writeWPSError(sw, r, err)
			} else {
				s.writeAPIError(sw, r, err)
			}
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(began)
		op := operationOf(r)
		s.metrics.Requests.WithLabelValues(name, op, r.Method, strconv.Itoa(sw.status)).Observe(d.Seconds())
		s.logFrom(r).Info("request", "method", r.Method, "path", r.URL.Path, "operation", op,
			"status", sw.status, "bytes", sw.bytes, "ms", float64(d.Microseconds())/1000)
	})
}

type opKey struct{}

// setOperation records the WPS operation of a request for metrics and logs.
func setOperation(r *http.Request, op string) {
	if p, ok := r.Context().Value(opKey{}).(*string); ok {
		*p = op
	}
}

// operationOf is the WPS operation a handler recorded, for metrics.
func operationOf(r *http.Request) string {
	if p, ok := r.Context().Value(opKey{}).(*string); ok && *p != "" {
		return *p
	}
	return "-"
}
