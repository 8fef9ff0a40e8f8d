//go:build linux

package jupyter

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts a kernel in its own process group, so that the programs it starts (GoNB
// compiles and runs each cell) die with it, and has Linux kill it if this process dies first
// (a frontend may SIGKILL the NAT kernel, which must not leave GoNB running). Pdeathsig fires
// when the thread that started the child exits; Go only ends threads whose goroutine locked
// them and returned, which the code starting kernels does not do.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
