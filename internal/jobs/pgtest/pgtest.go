// Package pgtest starts throwaway PostgreSQL servers for tests: a cluster made
// by initdb in a temporary directory, listening on a free loopback port, with
// trust authentication and fsync off. It needs the server binaries of the
// Debian package postgresql (scripts/setup.sh test installs them); a test
// that asks for a server fails, never skips, when they are missing.
//
// A test binary shares one server: wrap its tests with Run, and give each test
// its own database with DSN.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//	func TestX(t *testing.T) { store := open(pgtest.DSN(t)) ... }
//
// When root runs the tests, the server runs as the user postgres, because
// PostgreSQL refuses to run as root.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// missing is the advice given when the server binaries are not installed.
const missing = "PostgreSQL server binaries (initdb, pg_ctl) not found: run scripts/setup.sh test"

// Server is a running throwaway PostgreSQL cluster.
type Server struct {
	dir  string // removed by Stop
	data string
	bin  string
	port int
	cred *syscall.Credential // nil: run as the current user

	admin *sql.DB // on the "postgres" database, for CREATE/DROP DATABASE
	n     atomic.Int64
}

// BinDir returns the directory holding initdb and pg_ctl: $PG_BINDIR, the
// newest /usr/lib/postgresql/<version>/bin (Debian does not put them on
// PATH), or the directory of initdb on PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil && isExec(filepath.Join(filepath.Dir(p), "pg_ctl")) {
			return filepath.Dir(p), nil
		}
	}
	return "", errors.New(missing)
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Start creates a cluster in a new temporary directory and starts it.
func Start() (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, err
	}
	// The server user must reach its data directory inside ours.
	s.data = filepath.Join(s.dir, "data")
	err = os.Chmod(s.dir, 0o711)
	if err == nil {
		err = os.Mkdir(s.data, 0o700)
	}
	if err == nil && s.cred != nil {
		err = os.Chown(s.data, int(s.cred.Uid), int(s.cred.Gid))
	}
	if err == nil {
		err = s.run("initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	}
	if err == nil {
		err = s.start()
	}
	if err == nil {
		s.admin, err = sql.Open("pgx", s.URL("postgres"))
	}
	if err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the user postgres (%v): run scripts/setup.sh test", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// start starts the server on a free port, trying again if another process
// took the port between our probe and the server's bind.
func (s *Server) start() error {
	var err error
	for range 3 {
		if s.port, err = freePort(); err != nil {
			return err
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off "+
			"-c full_page_writes=off -c max_connections=300", s.port, s.data)
		if err = s.run("pg_ctl", "-D", s.data, "-l", filepath.Join(s.data, "server.log"), "-o", opts, "-w", "-t", "60", "start"); err == nil {
			return nil
		}
	}
	log, _ := os.ReadFile(filepath.Join(s.data, "server.log"))
	return fmt.Errorf("%v\nserver log:\n%s", err, log)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: %s: %v\n%s", name, err, out)
	}
	return nil
}

// URL is the connection URL of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Port is the server's loopback TCP port.
func (s *Server) Port() int { return s.port }

// CreateDatabase creates an empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (name, url string, err error) {
	name = fmt.Sprintf("test_%d_%d", os.Getpid(), s.n.Add(1))
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return name, s.URL(name), nil
}

// DropDatabase drops a database, closing its remaining connections.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	_, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// Stop stops the server at once and removes its directory.
func (s *Server) Stop() error {
	if s.admin != nil {
		s.admin.Close()
	}
	var err error
	if _, statErr := os.Stat(filepath.Join(s.data, "postmaster.pid")); statErr == nil {
		err = s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop")
	}
	if rmErr := os.RemoveAll(s.dir); err == nil {
		err = rmErr
	}
	return err
}

var shared struct {
	mu     sync.Mutex
	server *Server
	err    error
}

// Shared returns the test binary's server, starting it on first use. Run
// stops it.
func Shared() (*Server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server == nil && shared.err == nil {
		shared.server, shared.err = Start()
	}
	return shared.server, shared.err
}

// DSN returns the URL of a new empty database on the shared server; the
// database is dropped when t ends. It fails t when PostgreSQL cannot start.
func DSN(t testing.TB) string {
	t.Helper()
	s, err := Shared()
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, url, err := s.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.DropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return url
}

// Run runs the tests, then stops the shared server if a test started it.
func Run(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server != nil {
		if err := shared.server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
		shared.server = nil
	}
	return code
}
