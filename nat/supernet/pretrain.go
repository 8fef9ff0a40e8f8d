package supernet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
)

// Phase is one stage of progressive shrinking: which dimensions are elastic and for how long.
type Phase struct {
	Name  string
	Steps int
	// Elastic dimensions; the others stay at their maximum. Resolution is always elastic.
	Kernel, Depth, Expansion bool
	// SortChannels sorts expanded channels by importance before the phase (OFA does it before
	// elastic expansion).
	SortChannels bool
}

// PretrainOptions configure Pretrain.
type PretrainOptions struct {
	// Phases of progressive shrinking; nil uses DefaultPhases(1).
	Phases []Phase
	// Train holds the optimizer settings shared by all phases (Steps is ignored: each phase has
	// its own, with its own warm-up and cosine schedule).
	Train TrainOptions
	// Dir, when set, receives the supernet after every chunk of CheckpointEvery steps
	// (supernet.bin, atomically) and progress.json; a rerun with the same Dir resumes there.
	Dir             string
	CheckpointEvery int // default 10
	// DropOptimizerAtEnd saves the finished supernet without momentum buffers (half the size;
	// what a shipped checkpoint needs).
	DropOptimizerAtEnd bool
	// Log, when set, receives one line per progress report and per phase.
	Log func(format string, args ...any)
}

// DefaultPhases is progressive shrinking (OFA): the full network, then elastic kernel, then
// elastic depth, then elastic expansion (after sorting channels), with scale times the default
// step counts, which are sized for a 2-core CPU on MNIST.
func DefaultPhases(scale float64) []Phase {
	s := func(n int) int { return max(1, int(float64(n)*scale)) }
	return []Phase{
		{Name: "full", Steps: s(60)},
		{Name: "kernel", Steps: s(60), Kernel: true},
		{Name: "depth", Steps: s(60), Kernel: true, Depth: true},
		{Name: "expansion", Steps: s(100), Kernel: true, Depth: true, Expansion: true, SortChannels: true},
	}
}

// FinalPhase is an optional last phase with every dimension elastic (uniform subnets), appended
// after progressive shrinking to train all subnets longer.
func FinalPhase(steps int) Phase {
	return Phase{Name: "final", Steps: steps, Kernel: true, Depth: true, Expansion: true}
}

// PretrainState is saved as progress.json beside the checkpoint.
type PretrainState struct {
	Phase     int    `json:"phase"`      // index of the current phase
	PhaseStep int    `json:"phase_step"` // steps finished in it
	PhaseName string `json:"phase_name"`
	Done      bool   `json:"done"`
}

// sampler returns the phase's sampler over sp.
func (p Phase) sampler(sp *space.Space) Sampler {
	r := Restricted{Space: sp}
	last := func(v []int) []int { return v[len(v)-1:] }
	if !p.Kernel {
		r.Kernels = last(sp.Kernels)
	}
	if !p.Depth {
		r.Depths = last(sp.Depths)
	}
	if !p.Expansion {
		r.Expansions = last(sp.Expansions)
	}
	return r
}

// Pretrain trains net by progressive shrinking on train. With opt.Dir it checkpoints and resumes.
func Pretrain(ctx context.Context, net *Supernet, train *data.Dataset, opt PretrainOptions) error {
	phases := opt.Phases
	if phases == nil {
		phases = DefaultPhases(1)
	}
	every := opt.CheckpointEvery
	if every <= 0 {
		every = 10
	}
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	state := PretrainState{}
	if opt.Dir != "" {
		if b, err := os.ReadFile(filepath.Join(opt.Dir, "progress.json")); err == nil {
			if err := json.Unmarshal(b, &state); err != nil {
				return fmt.Errorf("supernet: %s: %w", filepath.Join(opt.Dir, "progress.json"), err)
			}
		}
	}
	// Done only records that every phase then listed finished: phases appended since (e.g. a
	// longer final phase) still run.
	for pi := state.Phase; pi < len(phases); pi++ {
		ph := phases[pi]
		if state.Phase != pi {
			state = PretrainState{Phase: pi}
		}
		state.PhaseName = ph.Name
		if ph.SortChannels && state.PhaseStep == 0 && !net.ImportanceSorted {
			net.SortChannels()
		}
		logf("phase %d/%d %s: %d steps (from step %d)", pi+1, len(phases), ph.Name, ph.Steps, state.PhaseStep)
		for state.PhaseStep < ph.Steps {
			chunk := min(every, ph.Steps-state.PhaseStep)
			to := opt.Train
			to.Steps = chunk
			to.ScheduleStart, to.ScheduleSteps = state.PhaseStep, ph.Steps
			to.Seed = opt.Train.Seed*1000003 + uint64(pi)*10007 + uint64(state.PhaseStep)
			user := opt.Train.Progress
			base := state.PhaseStep
			to.Progress = func(p TrainProgress) {
				logf("  %s step %d/%d loss %.4f acc %.3f lr %.4f %.1f img/s", ph.Name, base+p.Step, ph.Steps, p.Loss, p.Accuracy, p.LR, p.ImagesPerSec)
				if user != nil {
					user(p)
				}
			}
			if _, err := net.Train(ctx, ph.sampler(net.Space), train, to); err != nil {
				return err
			}
			state.PhaseStep += chunk
			if opt.Dir != "" {
				if err := saveProgress(net, opt.Dir, state, SaveOptions{}); err != nil {
					return err
				}
			}
		}
		state = PretrainState{Phase: pi + 1}
	}
	state = PretrainState{Phase: len(phases), Done: true}
	if opt.Dir != "" {
		return saveProgress(net, opt.Dir, state, SaveOptions{WithoutOptimizer: opt.DropOptimizerAtEnd})
	}
	return nil
}

// CheckpointFile is the supernet file Pretrain writes in its directory.
const CheckpointFile = "supernet.bin"

func saveProgress(net *Supernet, dir string, st PretrainState, so SaveOptions) error {
	if err := net.Save(filepath.Join(dir, CheckpointFile), so); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	tmp := filepath.Join(dir, ".progress.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("supernet: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "progress.json"))
}

// MedianArch is the subnet with the middle choice of every dimension (resolution, depth, kernel,
// expansion); with an even number of choices, the upper middle.
func MedianArch(sp *space.Space, width float64) space.Arch {
	mid := func(v []int) int { return v[len(v)/2] }
	a := space.Arch{Resolution: mid(sp.Resolutions), Width: width, Depths: make([]int, len(sp.Stages))}
	for st := range sp.Stages {
		a.Depths[st] = mid(sp.Depths)
		for j := 0; j < a.Depths[st]; j++ {
			a.Kernels = append(a.Kernels, mid(sp.Kernels))
			a.Expansions = append(a.Expansions, mid(sp.Expansions))
		}
	}
	return a
}
