package bind

import (
	"context"

	"github.com/natgo/nat/nat/transfer"
)

// Finetune opens exp's source supernet and target and runs (or resumes, or reads back) the
// fixed-subnet fine-tuning baseline on them (transfer.Finetune): the one call a script or
// notebook needs, as Run is for the loop.
func Finetune(ctx context.Context, exp transfer.Experiment, opt Options, spec transfer.FinetuneSpec, runOpt transfer.Options) (*transfer.FinetuneResult, error) {
	if exp.Space == nil && exp.SourceSupernet != "" {
		sp, err := SourceSpace(exp.SourceSupernet)
		if err != nil {
			return nil, err
		}
		exp.Space = sp
	}
	net, err := Open(exp, opt)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	return transfer.Finetune(ctx, exp, net, spec, runOpt)
}
