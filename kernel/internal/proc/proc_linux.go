//go:build linux

package proc

import (
	"os/exec"
	"syscall"
)

// SetGroup puts a process in its own process group, so that the programs it starts (GoNB
// compiles and runs each cell) die with it, and has Linux kill it if this process dies first
// (a frontend may SIGKILL the NAT kernel, which must not leave GoNB running). Pdeathsig fires
// when the thread that started the child exits; Go only ends threads whose goroutine locked
// them and returned, which the code starting kernels does not do.
func SetGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// KillGroup kills the process group that SetGroup made (the process alone elsewhere).
func KillGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
