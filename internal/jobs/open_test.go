package jobs

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/jobs/pgtest"
)

func TestParseDatabaseURL(t *testing.T) {
	for _, tc := range []struct {
		url, dataPath string
		dialect       dialect
		path          string
	}{
		{"", "/data", dialectSQLite, "/data/compute-wps.db"},
		{"sqlite:///abs/path.db", "/data", dialectSQLite, "/abs/path.db"},
		{"sqlite:/abs/path.db", "", dialectSQLite, "/abs/path.db"},
		{"sqlite://rel.db", "", dialectSQLite, "rel.db"},
		{"sqlite:rel.db", "", dialectSQLite, "rel.db"},
		{"postgres://u@h/db", "", dialectPostgres, ""},
		{"postgresql://u@h/db", "", dialectPostgres, ""},
	} {
		d, path, err := parseDatabaseURL(tc.url, tc.dataPath)
		if err != nil || d != tc.dialect || path != tc.path {
			t.Errorf("parseDatabaseURL(%q, %q) = %q, %q, %v; want %q, %q",
				tc.url, tc.dataPath, d, path, err, tc.dialect, tc.path)
		}
	}
	for _, bad := range []string{"sqlite:", "sqlite://", "mysql://h/db", "/just/a/path.db"} {
		if _, _, err := parseDatabaseURL(bad, "/data"); err == nil {
			t.Errorf("parseDatabaseURL(%q) succeeded", bad)
		}
	}
	if _, _, err := parseDatabaseURL("", ""); err == nil {
		t.Error("no URL and no data path accepted")
	}
}

// An unreachable PostgreSQL server is reported at once, naming the server
// but not the password.
func TestOpenPostgresUnreachable(t *testing.T) {
	port := closedPort(t)
	began := time.Now()
	_, err := Open(t.Context(), fmt.Sprintf("postgres://wps:secret@127.0.0.1:%d/compute", port), "")
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("connect to PostgreSQL at postgres://wps:xxxxx@127.0.0.1:%d/compute", port)) ||
		strings.Contains(err.Error(), "secret") {
		t.Errorf("Open error = %v", err)
	}
	t.Logf("refused after %v", time.Since(began))
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestPingFailsFast: when the database stops answering (here: a proxy in
// front of PostgreSQL that swallows every byte), Ping reports it within its
// timeout instead of hanging, so a readiness probe can say "not ready".
func TestPingFailsFast(t *testing.T) {
	srv, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)
	proxy := newBlackholeProxy(t, srv.Port())
	s := openStoreAt(t, strings.Replace(dsn, fmt.Sprintf(":%d/", srv.Port()), fmt.Sprintf(":%d/", proxy.port), 1), t.TempDir())
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping while the database answers: %v", err)
	}
	proxy.swallow.Store(true)
	began := time.Now()
	err = s.Ping(t.Context())
	if err == nil || !strings.Contains(err.Error(), "the job store does not answer") {
		t.Errorf("Ping of an unreachable database = %v", err)
	}
	if took := time.Since(began); took > 2*pingTimeout {
		t.Errorf("Ping took %v", took)
	}
}

// blackholeProxy forwards TCP to a port until swallow is set; then it
// accepts and reads but never answers, like a server that hangs or a network
// that drops packets.
type blackholeProxy struct {
	port    int
	swallow atomic.Bool
}

func newBlackholeProxy(t *testing.T, target int) *blackholeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &blackholeProxy{port: ln.Addr().(*net.TCPAddr).Port}
	var conns sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		open = append(open, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	// pipe copies until swallow is set, then discards.
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if err != nil {
				dst.Close()
				return
			}
			if !p.swallow.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			track(c)
			up, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", target))
			if err != nil {
				c.Close()
				continue
			}
			track(up)
			conns.Go(func() { pipe(up, c) })
			conns.Go(func() { pipe(c, up) })
		}
	}()
	return p
}

func TestOpenSQLitePragmas(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "jobs.db") // the directory is created
	s := openStoreAt(t, "sqlite://"+path, "")
	for _, tc := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"busy_timeout", "10000"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL
	} {
		var got string
		if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	if _, err := Open(t.Context(), "sqlite:"+filepath.Join(dir, "what?.db"), ""); err == nil {
		t.Error("a path with '?' was accepted")
	}
}

func TestRebind(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c = '?' AND d IN (?, ?)`
	if got := dialectSQLite.rebind(q); got != q {
		t.Errorf("sqlite rebind changed the query: %s", got)
	}
	want := `SELECT a FROM t WHERE b = $1 AND c = '?' AND d IN ($2, $3)`
	if got := dialectPostgres.rebind(q); got != want {
		t.Errorf("postgres rebind = %s, want %s", got, want)
	}
}
