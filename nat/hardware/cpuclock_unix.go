//go:build unix

package hardware

import "syscall"

// cpuNow is the process's CPU time (user + system, all threads) in nanoseconds.
func cpuNow() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return wallNow()
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
