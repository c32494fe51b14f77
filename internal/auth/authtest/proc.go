package authtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

const setupHint = "run scripts/setup-auth-test.sh"

// process is a provider's child process. Its output is kept and logged when
// the test fails, so a broken provider explains itself.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProcess starts cmd (its Stdout may already be set) and stops it at
// tb.Cleanup: SIGTERM, then SIGKILL after two seconds.
func startProcess(tb testing.TB, name string, cmd *exec.Cmd) *process {
	tb.Helper()
	p := &process{name: name, cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	cmd.Stderr = p.out
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("authtest: start %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("authtest: output of %s:\n%s", name, p.out.String())
		}
		p.stop()
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// sourceDir is this package's directory, where oidc-provider/ lives. Tests
// of other packages run in their own directories, so the working directory
// will not do; fall back to walking up from it when built with -trimpath.
func sourceDir(tb testing.TB) string {
	tb.Helper()
	if _, file, _, ok := runtime.Caller(0); ok {
		dir := filepath.Dir(file)
		if _, err := os.Stat(filepath.Join(dir, "oidc-provider", "server.mjs")); err == nil {
			return dir
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("authtest: %v", err)
	}
	for {
		cand := filepath.Join(dir, "internal", "auth", "authtest")
		if _, err := os.Stat(filepath.Join(cand, "oidc-provider", "server.mjs")); err == nil {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("authtest: cannot find internal/auth/authtest/oidc-provider above the working directory")
		}
		dir = parent
	}
}

// HydraPath is where the Hydra binary is expected: $COMPUTEWPS_HYDRA, or the
// cache directory scripts/setup-auth-test.sh builds it into.
func HydraPath() string {
	if p := os.Getenv("COMPUTEWPS_HYDRA"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "compute-wps", "hydra-v2.3.0")
}

// ChromiumPath is the Debian chromium binary the browser tests use.
const ChromiumPath = "/usr/bin/chromium"

func requireExecutable(tb testing.TB, path, what string) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		tb.Fatalf("authtest: %s is missing (%s): %s", what, path, setupHint)
	}
}
