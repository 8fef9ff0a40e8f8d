//go:build !unix

package proc

import "os/exec"

// SetGroup does nothing on this platform.
func SetGroup(cmd *exec.Cmd) {}

// KillGroup kills the process group that SetGroup made (the process alone elsewhere).
func KillGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
