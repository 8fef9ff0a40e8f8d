package bind

import (
	"context"

	"github.com/natgo/nat/nat/transfer"
)

// Finetune opens exp's source supernet and target and runs (or resumes, or reads back) the
// fixed-subnet fine-tuning baseline on them (transfer.Finetune): the one call a script or
// notebook needs, as Run is for the loop.
func Finetune(ctx context.Context, exp transfer.Experiment, opt Options, spec transfer.FinetuneSpec, runOpt transfer.Options) (*transfer.FinetuneResult, error) {
	exp, net, err := openWithSpace(exp, opt)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	return transfer.Finetune(ctx, exp, net, spec, runOpt)
}
