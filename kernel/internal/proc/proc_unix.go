//go:build unix && !linux

package proc

import (
	"os/exec"
	"syscall"
)

// SetGroup puts a process in its own process group, so that the programs it starts (GoNB
// compiles and runs each cell) die with it.
func SetGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// KillGroup kills the process group that SetGroup made (the process alone elsewhere).
func KillGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
