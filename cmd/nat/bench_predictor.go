package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/predictor"
	"github.com/natgo/nat/nat/predictor/synthetic"
	"github.com/natgo/nat/nat/rank"
)

// predictorBenchRow is one (training size, model) cell of `nat bench predictor`, over seeds.
type predictorBenchRow struct {
	Samples  int       `json:"samples"`
	Model    string    `json:"model"`
	Tau      []float64 `json:"tau"` // Kendall tau-b on the held-out set, per seed
	TauMean  float64   `json:"tau_mean"`
	TauStd   float64   `json:"tau_std"`
	Spearman float64   `json:"spearman_mean"`
	RMSE     float64   `json:"rmse_mean"`
	Seconds  float64   `json:"seconds_mean"` // fit + predict of the held-out set, wall clock
	Chosen   []string  `json:"chosen,omitempty"`
	Err      string    `json:"error,omitempty"`
}

// runBenchPredictor is `nat bench predictor`: every accuracy predictor, and adaptive switching
// over them, fitted on synthetic NAT-shaped archives (22 genes in NAT's bounds; accuracy a
// smooth nonlinear function with interactions plus noise) of several sizes and scored by
// Kendall tau on a disjoint held-out set. It writes a markdown table with the command that
// made it.
func runBenchPredictor(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench predictor", "nat bench predictor [--sizes 100,200,300] [--test 1000] [--seeds 3] [--models all] [--features scaled] [--as-repeats 5] [--archive DIR] [--out results/predictors/synthetic.md] [--json]")
	sizes := fs.String("sizes", "100,200,300", "training-set sizes, comma-separated")
	test := fs.Int("test", 1000, "held-out samples (distinct from the training samples)")
	seeds := fs.Int("seeds", 3, "repetitions with different data and model seeds; the table shows mean and std")
	seed := fs.Uint64("seed", 1, "first seed")
	noise := fs.Float64("noise", 0.25, "standard deviation of the Gaussian noise on training accuracies (percentage points)")
	models := fs.String("models", "all", "models, comma-separated ("+strings.Join(predictor.ModelNames(), ", ")+"), or all")
	features := fs.String("features", "scaled", "feature map: scaled or onehot")
	out := fs.String("out", "results/predictors/synthetic.md", "markdown file to write (- for none)")
	asJSON := fs.Bool("json", false, "print the rows as JSON instead of the table")
	asRepeats := fs.Int("as-repeats", 5, "adaptive switching's cross-validation repeats (the default, 5: 5x repeated 10-fold; 1: one 10-fold, NAT's)")
	archiveDir := fs.String("archive", "", "score on a NAT run's archive directory instead of synthetic data: the latest iteration's (genes, top1) pairs, "+
		"split at random per seed into a training set of each size and a held-out set of the remaining subnets (at most --test)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench predictor: unexpected argument %q", fs.Arg(0))
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 3 {
			return fmt.Errorf("bench predictor: --sizes: %q is not a training size >= 3", s)
		}
		ns = append(ns, n)
	}
	if *test < 2 || *seeds < 1 || *asRepeats < 1 {
		return fmt.Errorf("bench predictor: need --test >= 2, --seeds >= 1 and --as-repeats >= 1, got %d, %d and %d", *test, *seeds, *asRepeats)
	}
	names := predictor.ModelNames()
	if *models != "all" {
		names = nil
		for _, s := range strings.Split(*models, ",") {
			s = strings.TrimSpace(s)
			if !predictor.IsModel(s) {
				return fmt.Errorf("bench predictor: --models: unknown model %q (known: %s)", s, strings.Join(predictor.ModelNames(), ", "))
			}
			names = append(names, s)
		}
	}
	data := syntheticData(*noise, *test)
	bounds := synthetic.Bounds()
	source := ""
	if *archiveDir != "" {
		var err error
		data, bounds, source, err = archiveData(*archiveDir, *test, ns)
		if err != nil {
			return fmt.Errorf("bench predictor: %w", err)
		}
	}
	fm, err := predictor.NewFeatureMap(*features, bounds)
	if err != nil {
		return fmt.Errorf("bench predictor: %w", err)
	}
	var rows []predictorBenchRow
	for _, n := range ns {
		for _, name := range names {
			row := predictorBenchRow{Samples: n, Model: name}
			var rhos, rmses, secs []float64
			for s := 0; s < *seeds; s++ {
				if err := ctx.Err(); err != nil {
					return err
				}
				sd := *seed + uint64(s)
				g, y, tg, ty := data(n, sd)
				X, err := predictor.Features(fm, g)
				if err != nil {
					return err
				}
				TX, err := predictor.Features(fm, tg)
				if err != nil {
					return err
				}
				model, err := predictor.New(name, sd)
				if err == nil && (name == "adaptive-switching" || name == "as") {
					model, err = predictor.NewSwitching(predictor.SwitchingOptions{Seed: sd, Repeats: *asRepeats})
				}
				if err != nil {
					return fmt.Errorf("bench predictor: %w", err)
				}
				start := time.Now()
				var pred []float64
				if err = model.Fit(X, y); err == nil {
					pred, err = model.Predict(TX)
				}
				if err != nil {
					row.Err = err.Error()
					fmt.Fprintf(e.Stderr, "n=%d %s seed %d: %v\n", n, name, sd, err)
					break
				}
				secs = append(secs, time.Since(start).Seconds())
				sum, err := rank.Summarize(pred, ty)
				if err != nil {
					row.Err = err.Error()
					break
				}
				row.Tau = append(row.Tau, sum.KendallTau)
				rhos, rmses = append(rhos, sum.Spearman), append(rmses, sum.RMSE)
				if sw, ok := model.(*predictor.Switching); ok {
					row.Chosen = append(row.Chosen, sw.Choice())
				}
				fmt.Fprintf(e.Stderr, "n=%d %-18s seed %d: tau %.3f (%.1fs) %s\n", n, name, sd, sum.KendallTau, secs[len(secs)-1], model.Describe())
			}
			if row.Err == "" {
				row.TauMean, row.TauStd = meanStd(row.Tau)
				row.Spearman, _ = meanStd(rhos)
				row.RMSE, _ = meanStd(rmses)
				row.Seconds, _ = meanStd(secs)
			}
			rows = append(rows, row)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	cmd := "nat bench predictor " + strings.Join(args, " ")
	md := predictorMarkdown(rows, ns, names, cmd, *test, *seeds, *noise, fm, source)
	if *asRepeats > 1 {
		md += fmt.Sprintf("\nAdaptive switching here scores %dx repeated 10-fold cross-validation (%d folds per model; kriging in closed form with theta from the full fit, the trees by their out-of-bag predictions), not NAT's single 10-fold.\n", *asRepeats, 10**asRepeats)
	} else {
		md += "\nAdaptive switching here scores one 10-fold cross-validation, NAT's (kriging in closed form with theta from the full fit, the trees by their out-of-bag predictions).\n"
	}
	fmt.Fprint(e.Stdout, md)
	if *out != "-" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return fmt.Errorf("bench predictor: %w", err)
		}
		tmp := *out + ".tmp"
		if err := os.WriteFile(tmp, []byte(md), 0o644); err != nil {
			return fmt.Errorf("bench predictor: %w", err)
		}
		if err := os.Rename(tmp, *out); err != nil {
			return fmt.Errorf("bench predictor: %w", err)
		}
		fmt.Fprintf(e.Stderr, "wrote %s\n", *out)
	}
	return nil
}

func meanStd(v []float64) (float64, float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	mu := 0.0
	for _, x := range v {
		mu += x
	}
	mu /= float64(len(v))
	ss := 0.0
	for _, x := range v {
		ss += (x - mu) * (x - mu)
	}
	return mu, math.Sqrt(ss / float64(len(v)))
}

func predictorMarkdown(rows []predictorBenchRow, ns []int, names []string, cmd string, test, seeds int, noise float64, fm predictor.FeatureMap, source string) string {
	var b strings.Builder
	if source != "" {
		b.WriteString("# Accuracy predictors on a NAT run's archive\n\n")
	} else {
		b.WriteString("# Accuracy predictors on synthetic NAT-shaped data\n\n")
	}
	fmt.Fprintf(&b, "Made by `%s` (%s, GOMAXPROCS=%s on a shared 2-core machine: times are indicative only).\n\n",
		strings.TrimSpace(cmd), time.Now().UTC().Format("2006-01-02"), gomaxprocs())
	if source != "" {
		fmt.Fprintf(&b, "Data: %s; per seed, a random training set of each size and the remaining subnets (at most %d) held out. "+
			"Features: %s (%d). Each cell: Kendall tau-b on the held-out set, mean ± std over %d seeds. The last column compares adaptive switching (AS) "+
			"with the best single model: on average, and on the seed where AS did worst relative to that seed's best single model.\n\n",
			source, test, fm.Name(), fm.Dim(), seeds)
	} else {
		fmt.Fprintf(&b, "Data: 22 integer genes in NAT's bounds (nat/predictor/synthetic), accuracy a smooth nonlinear function of them "+
			"with interactions, training accuracies with N(0, %.2g^2) noise; %d held-out genomes distinct from the training ones, scored "+
			"noiseless. Features: %s (%d). Each cell: Kendall tau-b on the held-out set, mean ± std over %d seeds (data and model seeds differ per repetition). "+
			"The last column compares adaptive switching (AS) with the best single model: on average, and on the seed where AS did worst relative to "+
			"that seed's best single model.\n\n",
			noise, test, fm.Name(), fm.Dim(), seeds)
	}
	cell := map[[2]string]predictorBenchRow{}
	for _, r := range rows {
		cell[[2]string{strconv.Itoa(r.Samples), r.Model}] = r
	}
	b.WriteString("| training samples |")
	for _, name := range names {
		fmt.Fprintf(&b, " %s |", name)
	}
	hasAS := false
	for _, name := range names {
		hasAS = hasAS || name == "adaptive-switching" || name == "as"
	}
	if hasAS {
		b.WriteString(" best single (mean) | AS - best single |")
	}
	b.WriteString("\n|---|")
	for range names {
		b.WriteString("---|")
	}
	if hasAS {
		b.WriteString("---|---|")
	}
	b.WriteString("\n")
	for _, n := range ns {
		fmt.Fprintf(&b, "| %d |", n)
		best, bestName := math.Inf(-1), ""
		var as predictorBenchRow
		var singles []predictorBenchRow
		for _, name := range names {
			r := cell[[2]string{strconv.Itoa(n), name}]
			if r.Err != "" {
				fmt.Fprintf(&b, " failed: %s |", strings.ReplaceAll(r.Err, "|", "/"))
				continue
			}
			fmt.Fprintf(&b, " %.3f ± %.3f |", r.TauMean, r.TauStd)
			if name == "adaptive-switching" || name == "as" {
				as = r
				continue
			}
			singles = append(singles, r)
			if r.TauMean > best {
				best, bestName = r.TauMean, name
			}
		}
		if hasAS && len(as.Tau) == 0 {
			fmt.Fprintf(&b, " %s %.3f | AS failed |", bestName, best)
		} else if hasAS {
			// Per seed: AS against the best single model on that seed's data.
			worst := math.Inf(1)
			for s := range as.Tau {
				bestSeed := math.Inf(-1)
				for _, r := range singles {
					if s < len(r.Tau) {
						bestSeed = max(bestSeed, r.Tau[s])
					}
				}
				worst = min(worst, as.Tau[s]-bestSeed)
			}
			verdict := "within 0.05"
			if !(worst >= -0.05) {
				verdict = "NOT within 0.05 on every seed"
			}
			fmt.Fprintf(&b, " %s %.3f | mean %+.3f, worst seed %+.3f (%s) |", bestName, best, as.TauMean-best, worst, verdict)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nMean wall-clock seconds to fit and predict the held-out set:\n\n| training samples |")
	for _, name := range names {
		fmt.Fprintf(&b, " %s |", name)
	}
	b.WriteString("\n|---|")
	for range names {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, n := range ns {
		fmt.Fprintf(&b, "| %d |", n)
		for _, name := range names {
			r := cell[[2]string{strconv.Itoa(n), name}]
			if r.Err != "" {
				b.WriteString(" - |")
				continue
			}
			fmt.Fprintf(&b, " %.2f |", r.Seconds)
		}
		b.WriteString("\n")
	}
	if hasAS {
		b.WriteString("\nAdaptive switching's choices (one per seed):\n\n")
		for _, n := range ns {
			for _, name := range []string{"adaptive-switching", "as"} {
				if r, ok := cell[[2]string{strconv.Itoa(n), name}]; ok && r.Err == "" {
					fmt.Fprintf(&b, "- %d samples: %s\n", n, strings.Join(r.Chosen, ", "))
				}
			}
		}
	}
	return b.String()
}

func gomaxprocs() string {
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		return v
	}
	return "default"
}

// benchData returns a training set of n genomes and a held-out set for one seed.
type benchData func(n int, seed uint64) (train [][]int, trainAcc []float64, test [][]int, testAcc []float64)

// syntheticData draws NAT-shaped synthetic archives: noisy training accuracies, a disjoint
// noiseless held-out set.
func syntheticData(noise float64, test int) benchData {
	return func(n int, seed uint64) ([][]int, []float64, [][]int, []float64) {
		g, y := synthetic.Sample(n, noise, seed)
		tg, ty := synthetic.SampleExcluding(test, 0, seed+1_000_003, g)
		return g, y, tg, ty
	}
}

// archiveData reads the latest iteration of a run's archive and splits its (genes, top1) pairs
// at random per seed. The gene bounds are NAT's when every genome fits them, else the observed
// per-gene ranges.
func archiveData(dir string, test int, sizes []int) (benchData, predictor.Bounds, string, error) {
	it, err := archive.Latest(dir)
	if err != nil {
		return nil, predictor.Bounds{}, "", err
	}
	if it == nil {
		return nil, predictor.Bounds{}, "", fmt.Errorf("--archive %s: no complete iteration", dir)
	}
	var genomes [][]int
	var acc []float64
	seen := map[string]bool{}
	for _, r := range it.Rows {
		if seen[r.Genome] || len(r.Genes) == 0 {
			continue
		}
		seen[r.Genome] = true
		g := make([]int, len(r.Genes))
		for i, v := range r.Genes {
			g[i] = int(v)
		}
		genomes = append(genomes, g)
		acc = append(acc, r.Top1)
	}
	largest := slices.Max(sizes)
	held := min(test, len(genomes)-largest)
	if held < 10 {
		return nil, predictor.Bounds{}, "", fmt.Errorf("--archive %s: %d distinct subnets in iteration %d: too few for a training set of %d plus 10 held out",
			dir, len(genomes), it.Index, largest)
	}
	bounds := synthetic.Bounds()
	for _, g := range genomes {
		if bounds.Check(g) != nil {
			bounds = observedBounds(genomes)
			break
		}
	}
	source := fmt.Sprintf("archive `%s`, iteration %d, %d distinct subnets with measured top-1", dir, it.Index, len(genomes))
	data := func(n int, seed uint64) ([][]int, []float64, [][]int, []float64) {
		perm := rand.New(rand.NewPCG(seed, 0x61726368)).Perm(len(genomes))
		pick := func(idx []int) ([][]int, []float64) {
			g, y := make([][]int, len(idx)), make([]float64, len(idx))
			for k, i := range idx {
				g[k], y[k] = genomes[i], acc[i]
			}
			return g, y
		}
		g, y := pick(perm[:n])
		tg, ty := pick(perm[len(perm)-held:])
		return g, y, tg, ty
	}
	return data, bounds, source, nil
}

func observedBounds(genomes [][]int) predictor.Bounds {
	m := len(genomes[0])
	b := predictor.Bounds{Lo: slices.Clone(genomes[0]), Hi: slices.Clone(genomes[0])}
	for _, g := range genomes {
		for i := 0; i < m && i < len(g); i++ {
			b.Lo[i], b.Hi[i] = min(b.Lo[i], g[i]), max(b.Hi[i], g[i])
		}
	}
	return b
}
