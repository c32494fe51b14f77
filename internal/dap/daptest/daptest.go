// Package daptest serves a directory of NetCDF files over OPeNDAP (DAP2)
// on 127.0.0.1 from a child process, for tests whose client is libnetcdf.
//
// The handler cannot run in the test's own process: the netcdf package
// holds its process-wide lock through every libnetcdf call, including the
// HTTP requests of an OPeNDAP read, and the handler needs that lock to read
// the file it serves. The child is the test binary itself, so a package
// using Start must hand its TestMain to Run:
//
//	func TestMain(m *testing.M) { os.Exit(daptest.Run(m)) }
package daptest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/dap"
)

const (
	envRoot = "DAPTEST_ROOT"
	envMax  = "DAPTEST_MAX_BYTES"
	// prefix is where the child mounts the handler.
	prefix = "/dap/"
	// requestsPath lists the requests the child has received, as JSON.
	requestsPath = "/_requests"
)

// Run runs the tests, unless this process is a child started by Start, in
// which case it serves until its standard input closes and exits.
func Run(m *testing.M) int {
	if root := os.Getenv(envRoot); root != "" {
		os.Exit(serve(root))
	}
	return m.Run()
}

// Config says what a child serves.
type Config struct {
	Root     string // directory whose files are the datasets
	MaxBytes int64  // Handler.MaxBytes
}

// Server is a running child.
type Server struct {
	// URL is the base of dataset URLs, ending in "/": a file root/a/x.nc is
	// the dataset URL+"a/x.nc".
	URL string
	// Base is the child's address, http://127.0.0.1:port.
	Base string
}

// Start starts a child serving c.Root and stops it when tb ends.
func Start(tb testing.TB, c Config) *Server {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envRoot+"="+c.Root, envMax+"="+strconv.FormatInt(c.MaxBytes, 10))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	// The child writes one line, its address, to stdout.
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		tb.Fatalf("daptest: the child did not report its address (%q, %v); does TestMain call daptest.Run?", line, err)
	}
	base := strings.TrimSpace(line)
	return &Server{URL: base + prefix, Base: base}
}

// Requests returns the request URIs (path and raw query) the child has
// received so far, in order. The child records a request before answering
// it, so every request a finished client call made is there.
func (s *Server) Requests(tb testing.TB) []string {
	tb.Helper()
	resp, err := http.Get(s.Base + requestsPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var uris []string
	if err := json.NewDecoder(resp.Body).Decode(&uris); err != nil {
		tb.Fatal(err)
	}
	return uris
}

// serve is the child: it prints its address and serves until stdin closes.
func serve(root string) int {
	maxBytes, _ := strconv.ParseInt(os.Getenv(envMax), 10, 64)
	h := &dap.Handler{
		Resolve:  DirResolver(root),
		MaxBytes: maxBytes,
		Log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	var (
		mu   sync.Mutex
		uris = []string{}
	)
	mux := http.NewServeMux()
	mux.Handle(prefix, http.StripPrefix(prefix, h))
	mux.HandleFunc(requestsPath, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(uris)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != requestsPath {
			mu.Lock()
			uris = append(uris, r.URL.RequestURI())
			mu.Unlock()
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	fmt.Println(srv.URL)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// DirResolver resolves dataset paths to regular files under root. Anything
// else, including a path that a symbolic link leads out of root, does not
// exist as far as clients are told.
func DirResolver(root string) dap.Resolver {
	return func(name string) (string, error) {
		r, err := os.OpenRoot(root)
		if err != nil {
			return "", err
		}
		defer r.Close()
		if fi, err := r.Stat(name); err != nil || !fi.Mode().IsRegular() {
			return "", fs.ErrNotExist
		}
		return filepath.Join(root, filepath.FromSlash(name)), nil
	}
}
