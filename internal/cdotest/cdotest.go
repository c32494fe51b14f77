// Package cdotest runs CDO, the numerical oracle of our tests.
package cdotest

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
)

// Run runs `cdo -s -O args...` and fails tb if it fails. CDO 2.1.1 runs
// chained operators in threads and was seen to crash (SIGSEGV) now and
// then on a loaded machine; a run killed by a signal is tried again, twice
// at most, since its answer, not its luck, is what a test checks.
func Run(tb testing.TB, args ...string) {
	tb.Helper()
	if _, err := exec.LookPath("cdo"); err != nil {
		tb.Fatal("cdo is not installed: run scripts/setup.sh test (Debian package cdo)")
	}
	var out []byte
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		out, err = exec.Command("cdo", append([]string{"-s", "-O"}, args...)...).CombinedOutput()
		var ee *exec.ExitError
		if err == nil || !errors.As(err, &ee) || !signaled(ee) {
			break
		}
		tb.Logf("cdo %v was killed by %v; running it again", args, ee.ProcessState)
	}
	if err != nil {
		tb.Fatalf("cdo %v: %v\n%s", args, err, out)
	}
}

func signaled(ee *exec.ExitError) bool {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}
