// Package supernettest helps tests of code built on nat/supernet (the transfer binding, the
// command-line program) start from a real, freshly initialised supernet without training one.
package supernettest

import (
	"path/filepath"
	"testing"

	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet"
)

// Checkpoint saves a freshly initialised supernet of sp (width 1, weights from seed) in a
// temporary directory of t and returns its path.
func Checkpoint(t testing.TB, sp *space.Space, seed uint64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fresh.ckpt")
	n, err := supernet.New(sp, 1, supernet.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Save(path, supernet.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}
