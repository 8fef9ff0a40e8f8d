//go:build !unix

package hardware

// cpuNow falls back to wall time where getrusage is not available.
func cpuNow() int64 { return wallNow() }
