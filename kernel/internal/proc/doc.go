// Package proc starts child processes (kernels, shell lines, script cells) in their own process
// group so that stopping one also stops what it started.
package proc

import "os/exec"

// CommandGroup makes cmd start in its own process group and, when its context is cancelled,
// kill the whole group rather than the leader only.
func CommandGroup(cmd *exec.Cmd) {
	SetGroup(cmd)
	cmd.Cancel = func() error {
		KillGroup(cmd)
		return nil
	}
}
