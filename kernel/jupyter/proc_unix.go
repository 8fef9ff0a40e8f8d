//go:build unix && !linux

package jupyter

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts a kernel in its own process group, so that the programs it starts (GoNB
// compiles and runs each cell) die with it.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
