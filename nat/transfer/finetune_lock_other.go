//go:build !unix

package transfer

// lockDir is a no-op where flock is unavailable: running two fine-tunings into one directory at
// once is then the caller's mistake to avoid.
func lockDir(string) (func(), error) { return func() {}, nil }
