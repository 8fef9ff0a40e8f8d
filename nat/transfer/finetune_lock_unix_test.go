//go:build unix

package transfer_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/transfer"
)

// TestFinetuneRefusesASecondProcessInItsDirectory starts a second fine-tuning into a directory
// while the first is training there: it must be refused (not overwrite the first's
// checkpoints), and the first must finish normally.
func TestFinetuneRefusesASecondProcessInItsDirectory(t *testing.T) {
	exp := finetuneExperiment(t, filepath.Join(t.TempDir(), "busy"))
	spec := transfer.FinetuneSpec{Reference: reference(t, exp.Space, "largest"), Steps: 10, Chunks: 2}
	var second error
	tried := false
	_, err := transfer.Finetune(context.Background(), exp, newNet(t, exp.Space), spec, transfer.Options{Progress: func(p transfer.Progress) {
		if !tried && p.Phase == transfer.PhaseAdapt && p.Iteration == 1 {
			tried = true
			_, second = transfer.Finetune(context.Background(), exp, newNet(t, exp.Space), spec, transfer.Options{})
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if second == nil || !strings.Contains(second.Error(), "in use by another fine-tuning") {
		t.Errorf("second fine-tuning into a busy directory: %v", second)
	}
	// Once the first is done the directory is free again (and read back).
	if res, err := transfer.Finetune(context.Background(), exp, newNet(t, exp.Space), spec, transfer.Options{}); err != nil || res.Steps != 10 {
		t.Errorf("after the first finished: %v", err)
	}
}
