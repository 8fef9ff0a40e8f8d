package dsl

import (
	"fmt"
	"strings"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/transfer"
)

// DatasetRef names a target task's data: a built-in dataset or an image folder. Nothing is
// loaded until a run needs it.
type DatasetRef struct {
	Name   string // "mnist", "fashion-mnist", or the folder's path
	Folder bool   // an image folder (one sub-folder per class)
	// MaxTrain and MaxTest, when positive, keep only that many samples (quick experiments).
	MaxTrain, MaxTest int
	// Validation is the number of training images held out to measure top-1 (default 5000);
	// Calibration the number of training images that recalibrate batch norm (default 2000).
	Validation, Calibration int
}

// Dataset names a built-in dataset: "mnist" or "fashion-mnist".
func Dataset(name string) DatasetRef {
	switch name {
	case "mnist", "fashion-mnist":
		return DatasetRef{Name: name}
	}
	misuse("Dataset", "unknown dataset %q; known: mnist, fashion-mnist (or ImageFolder(path) for your own images)", name)
	return DatasetRef{}
}

// ImageFolder names a dataset of images stored one sub-folder per class.
func ImageFolder(path string) DatasetRef {
	if path == "" {
		misuse("ImageFolder", "empty path")
	}
	return DatasetRef{Name: path, Folder: true}
}

// Limit keeps only the first train and test samples (0 keeps all).
func (d DatasetRef) Limit(train, test int) DatasetRef {
	d.MaxTrain, d.MaxTest = train, test
	return d
}

// Holdout sets how many training images are held out for validation and used for batch-norm
// calibration (0 keeps the defaults, 5000 and 2000).
func (d DatasetRef) Holdout(validation, calibration int) DatasetRef {
	if validation < 0 || calibration < 0 {
		misuse("DatasetRef.Holdout", "sizes must not be negative, got %d and %d", validation, calibration)
	}
	d.Validation, d.Calibration = validation, calibration
	return d
}

// Load reads the dataset into memory.
func (d DatasetRef) Load() (train, test *data.Dataset, err error) {
	opt := data.LoadOptions{MaxTrain: d.MaxTrain, MaxTest: d.MaxTest}
	if d.Folder {
		return data.LoadFolder(d.Name, opt.Folder)
	}
	return data.Load(d.Name, opt)
}

func (d DatasetRef) String() string {
	kind := "dataset"
	if d.Folder {
		kind = "image folder"
	}
	s := fmt.Sprintf("%s %s", kind, d.Name)
	if d.MaxTrain > 0 || d.MaxTest > 0 {
		s += fmt.Sprintf(" (first %d train, %d test)", d.MaxTrain, d.MaxTest)
	}
	if d.Validation > 0 || d.Calibration > 0 {
		s += fmt.Sprintf(" (hold out %d for validation, %d for calibration)", d.Validation, d.Calibration)
	}
	return s
}

// PredictorSettings choose the accuracy predictor (surrogate).
type PredictorSettings struct {
	// Model: "as" (adaptive switching, default), "rbf", "rbf-ensemble", "kriging", "trees", "mlp".
	Model string
}

// SearchSettings configure the evolutionary search and the transfer loop. Zero fields take the
// defaults of NAT's paper, documented per field.
type SearchSettings struct {
	Population  int // NSGA-III population; default 100
	Generations int // generations per search; default 100
	Iterations  int // transfer iterations; default 30
	Candidates  int // subnets evaluated for real per iteration; default 8
	Initial     int // size of the initial archive; default 100
	// AdaptSteps is the number of supernet training steps per iteration (default: the engine's,
	// nat/transfer); Search always runs with adaptation off.
	AdaptSteps int
	// WarmupSteps trains the supernet on the target before the initial archive is measured
	// (uniformly sampled subnets; default 0, NAT's rule). See nat/transfer's
	// Experiment.WarmupSteps for when it helps.
	WarmupSteps int
	// LearningRate is the adaptation's peak learning rate, cosine over all steps (default 0.01,
	// NAT's; nat transfer's quickstart uses 0.03).
	LearningRate float64
	// BestFraction is the part of the archive, best first, whose gene distribution the adaptation
	// samples (default 0.5; the quickstart uses 0.25).
	BestFraction float64
	// SamplingTolerance ranks the archive for that distribution ignoring top-1 differences under
	// this many standard errors when the cheaper subnet is the lower (default 0: exact ranks,
	// NAT's rule). nat/transfer's Experiment.SamplingTolerance says why.
	SamplingTolerance float64
	// Reevaluate says which subnets are measured again after each adaptation: "all" (default,
	// NAT's), "contenders", "front" (the quickstart's) or "none"; nat/transfer's
	// Experiment.Reevaluate documents each. The loop's validation (nat/transfer's
	// Experiment.Validate) checks these four.
	Reevaluate string
	Seed       uint64
}

// Defaults returns the settings with zero fields set to the engine's defaults (nat/transfer's
// Experiment.WithDefaults, NAT's paper settings), so the two never disagree.
func (s SearchSettings) Defaults() SearchSettings {
	d := transfer.Experiment{}.WithDefaults()
	if s.Population == 0 {
		s.Population = d.Search.Population
	}
	if s.Generations == 0 {
		s.Generations = d.Search.Generations
	}
	if s.Iterations == 0 {
		s.Iterations = d.Iterations
	}
	if s.Candidates == 0 {
		s.Candidates = d.Candidates
	}
	if s.Initial == 0 {
		s.Initial = d.InitialSize
	}
	return s
}

// Experiment is everything a run needs.
type Experiment struct {
	Name        string
	Space       *Space
	Data        DatasetRef
	Objectives  ObjectiveList
	Constraints ConstraintList
	Predictor   PredictorSettings
	Search      SearchSettings
	// Supernet is the path of the pre-trained supernet checkpoint that Transfer adapts.
	Supernet string
	// Dir is where the run's archive goes (resumed when it exists).
	Dir string
}

var knownModels = []string{"as", "rbf", "rbf-ensemble", "kriging", "trees", "mlp"}

// Validate checks the experiment and names the first problem.
func (e Experiment) Validate() error {
	var errs []string
	if e.Space == nil || e.Space.s == nil {
		errs = append(errs, "no search space (set Space: MobileNetV3() or another)")
	}
	if len(e.Objectives) == 0 {
		errs = append(errs, "no objectives (set Objectives: Objectives(Maximize(Top1()), Minimize(MAdds())))")
	}
	if m := e.Predictor.Model; m != "" {
		ok := false
		for _, k := range knownModels {
			ok = ok || k == m
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown predictor %q (known: %s)", m, strings.Join(knownModels, ", ")))
		}
	}
	s := e.Search
	if s.Population < 0 || s.Generations < 0 || s.Iterations < 0 || s.Candidates < 0 || s.Initial < 0 {
		errs = append(errs, "search settings must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("experiment %s: %s", e.Name, strings.Join(errs, "; "))
	}
	return nil
}

func (e Experiment) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "experiment %s\n  space: %v\n  data: %v\n  objectives: %v\n  constraints: %v\n  predictor: %s\n  search: %+v",
		e.Name, e.Space, e.Data, e.Objectives, e.Constraints, orDefault(e.Predictor.Model, "as"), e.Search.Defaults())
	if e.Dir != "" {
		fmt.Fprintf(&b, "\n  archive: %s", e.Dir)
	}
	return b.String()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Display shows the experiment as text.
func (e Experiment) Display() display.Bundle {
	return display.Bundle{display.TextPlain: []byte(e.String()), display.Markdown: []byte("```\n" + e.String() + "\n```\n")}
}
