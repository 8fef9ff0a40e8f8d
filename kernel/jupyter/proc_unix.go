//go:build unix

package gonb

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts GoNB in its own process group, so that the programs it compiles and runs
// die with it.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
