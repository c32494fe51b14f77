package authtest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills the child when the test binary dies, for
// example on a -timeout panic, so no provider outlives its test.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
