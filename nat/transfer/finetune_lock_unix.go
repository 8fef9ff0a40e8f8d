//go:build unix

package transfer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive advisory lock on dir/.finetune.lock, so that two processes never
// fine-tune into the same directory at once (they would overwrite each other's checkpoints).
// The kernel releases it when the process dies, so a killed run never blocks its resume.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, ".finetune.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("transfer: %s is in use by another fine-tuning process (lock %s)", dir, path)
		}
		return nil, fmt.Errorf("transfer: locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
