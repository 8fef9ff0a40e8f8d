package transfer_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/transfertest"
)

// smallExperiment is a run sized for unit tests: 30 initial subnets, 3 iterations of 4
// candidates, a short search, 30 adaptation steps.
func smallExperiment(t testing.TB, dir string) transfer.Experiment {
	t.Helper()
	sp, err := space.Preset(space.NATMNIST)
	if err != nil {
		t.Fatal(err)
	}
	return transfer.Experiment{
		Space: sp, Target: "synthetic", OutDir: dir, Seed: 7,
		Objectives:  []transfer.Objective{transfer.Top1(), transfer.MAdds()},
		Predictor:   "rbf",
		Search:      transfer.SearchSettings{Population: 24, Generations: 8, RefDirs: 12},
		InitialSize: 30, Candidates: 4, Iterations: 3, AdaptSteps: 30,
	}
}

func newNet(t testing.TB, sp *space.Space) *transfertest.Supernet {
	t.Helper()
	n, err := transfertest.New(sp)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stripWall removes what legitimately differs between two runs of the same experiment.
func stripWall(rows []archive.Row) []archive.Row {
	out := append([]archive.Row(nil), rows...)
	for i := range out {
		out[i].WallSeconds = 0
	}
	return out
}

func readRun(t *testing.T, dir string) []*archive.Iteration {
	t.Helper()
	its, err := archive.ReadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	return its
}

// sameArchives compares two run directories file by file, ignoring wall times.
func sameArchives(t *testing.T, a, b string) {
	t.Helper()
	ia, ib := readRun(t, a), readRun(t, b)
	if len(ia) != len(ib) {
		t.Fatalf("%s has %d iterations, %s has %d", a, len(ia), b, len(ib))
	}
	for i := range ia {
		ra, rb := stripWall(ia[i].Rows), stripWall(ib[i].Rows)
		if !reflect.DeepEqual(ra, rb) {
			for j := range ra {
				if j < len(rb) && !reflect.DeepEqual(ra[j], rb[j]) {
					t.Fatalf("iteration %d row %d differs:\n%+v\n%+v", i, j, ra[j], rb[j])
				}
			}
			t.Fatalf("iteration %d: %d rows vs %d rows", i, len(ra), len(rb))
		}
		sa, sb := ia[i].Stats, ib[i].Stats
		if sa.Hypervolume != sb.Hypervolume || !reflect.DeepEqual(sa.KendallTau, sb.KendallTau) || sa.Predictor != sb.Predictor {
			t.Fatalf("iteration %d stats differ: %+v vs %+v", i, sa, sb)
		}
	}
}

func TestRunWritesEveryIterationWithSchema(t *testing.T) {
	dir := t.TempDir()
	exp := smallExperiment(t, dir)
	calls := map[string]int{}
	exp.Objectives = append(exp.Objectives, transfer.Func("depth", false, func(a space.Arch) float64 {
		calls[a.String()]++
		n := 0
		for _, d := range a.Depths {
			n += d
		}
		return float64(n)
	}))
	net := newNet(t, exp.Space)
	var phases []transfer.Phase
	var done []int
	res, err := transfer.Run(context.Background(), exp, net, transfer.Options{
		Progress: func(p transfer.Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
			if p.Phase == transfer.PhaseDone {
				done = append(done, p.Iteration)
				if p.Stats == nil || len(p.Front) == 0 {
					t.Errorf("iteration %d: done without stats or front", p.Iteration)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(done, []int{0, 1, 2, 3}) {
		t.Errorf("done reported for iterations %v", done)
	}
	for _, want := range []transfer.Phase{transfer.PhaseInitial, transfer.PhaseFit, transfer.PhaseSearch, transfer.PhaseSelect, transfer.PhaseEvaluate, transfer.PhaseAdapt, transfer.PhaseReevaluate, transfer.PhaseDone} {
		found := false
		for _, p := range phases {
			found = found || p == want
		}
		if !found {
			t.Errorf("phase %s never reported (saw %v)", want, phases)
		}
	}
	for name, n := range calls {
		if n != 1 {
			t.Fatalf("custom objective called %d times for %s; want once per distinct subnet", n, name)
		}
	}
	if net.Steps != 3*30 {
		t.Errorf("adaptation ran %d steps, want 90", net.Steps)
	}
	fresh := newNet(t, exp.Space)
	its := readRun(t, dir)
	if len(its) != 4 {
		t.Fatalf("%d iteration files, want 4", len(its))
	}
	for i, it := range its {
		want := 30 + 4*i
		if len(it.Rows) != want {
			t.Fatalf("iteration %d has %d rows, want %d", i, len(it.Rows), want)
		}
		seen := map[string]bool{}
		nCand, nFront := 0, 0
		for j, r := range it.Rows {
			if seen[r.Genome] {
				t.Fatalf("iteration %d: genome %s twice", i, r.Genome)
			}
			seen[r.Genome] = true
			if int(r.Iteration) != i || r.RunID != res.RunID || r.Seed != 7 {
				t.Fatalf("iteration %d row %d: iteration %d run %q seed %d", i, j, r.Iteration, r.RunID, r.Seed)
			}
			if len(r.Objectives) != 3 || r.Objectives[0].Name != "top1" || r.Objectives[0].Value != r.Top1 ||
				r.Objectives[1].Name != "madds" || math.Abs(r.Objectives[1].Value-float64(r.MAdds)/1e6) > 1e-9 ||
				r.Objectives[2].Name != "depth" || int32(r.Objectives[2].Value) != r.Layers {
				t.Fatalf("iteration %d row %d objectives %+v (top1 %v madds %d layers %d)", i, j, r.Objectives, r.Top1, r.MAdds, r.Layers)
			}
			a, err := space.ParseArchJSON([]byte(r.Arch))
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := fresh.Top1(a); i == 0 && r.Top1 != want {
				t.Fatalf("row %d top1 %v, the supernet says %v", j, r.Top1, want)
			}
			switch {
			case i == 0:
				if r.Reason != archive.ReasonInitial || r.Top1Predicted != nil {
					t.Fatalf("iteration 0 row %d: reason %q predicted %v", j, r.Reason, r.Top1Predicted)
				}
			case r.Reason == archive.ReasonCandidate:
				nCand++
				if r.FirstIteration != int32(i) || r.Top1Predicted == nil || r.Top1AtSelection == nil {
					t.Fatalf("iteration %d candidate row %d: first %d predicted %v at selection %v", i, j, r.FirstIteration, r.Top1Predicted, r.Top1AtSelection)
				}
			case r.Reason == archive.ReasonReevaluation:
				if r.Top1Predicted != nil || r.FirstIteration >= int32(i) {
					t.Fatalf("iteration %d reevaluation row %d: %+v", i, j, r)
				}
			default:
				t.Fatalf("iteration %d row %d: reason %q under the default policy", i, j, r.Reason)
			}
			if r.Front {
				nFront++
			}
		}
		if i > 0 && nCand != 4 {
			t.Errorf("iteration %d: %d candidates, want 4", i, nCand)
		}
		if i == 0 {
			if it.Rows[0].Summary != exp.Space.Smallest().String() || it.Rows[1].Summary != exp.Space.Largest().String() {
				t.Errorf("initial archive does not start with smallest and largest: %q, %q", it.Rows[0].Summary, it.Rows[1].Summary)
			}
		}
		// front membership: no front row is dominated by any row, every other row is.
		for j, r := range it.Rows {
			dominated := false
			for _, q := range it.Rows {
				if dominates(q, r) {
					dominated = true
				}
			}
			if r.Front == dominated {
				t.Fatalf("iteration %d row %d: front %v but dominated %v", i, j, r.Front, dominated)
			}
		}
		st := it.Stats
		if st.Iteration != i || st.ArchiveSize != want || st.FrontSize != nFront || !(st.Hypervolume > 0 && st.Hypervolume <= 1.01*1.01*1.01) {
			t.Errorf("iteration %d stats %+v", i, st)
		}
		if i > 0 && (st.KendallTau == nil || st.Predictor != "rbf") {
			t.Errorf("iteration %d: no Kendall tau or predictor in stats: %+v", i, st)
		}
	}
	if len(res.Front) == 0 || res.Iterations != 3 || res.ResumedFrom != -1 {
		t.Errorf("result: %d front rows, iterations %d, resumed from %d", len(res.Front), res.Iterations, res.ResumedFrom)
	}
	for _, f := range []string{"pareto.svg", "pareto.png", "manifest.json", "checkpoints/iter-0003", "checkpoints/iter-0002"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoints/iter-0001")); err == nil {
		t.Error("checkpoint of iteration 1 kept beyond KeepCheckpoints = 2")
	}
	// Running again is a no-op that reports the same archive.
	res2, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res2.ResumedFrom != 3 || !reflect.DeepEqual(stripWall(res2.Archive), stripWall(its[3].Rows)) {
		t.Errorf("rerunning a finished run: resumed from %d, archive equal %v", res2.ResumedFrom, reflect.DeepEqual(stripWall(res2.Archive), stripWall(its[3].Rows)))
	}
}

// dominates compares two rows on top1 (max), madds (min) and layers (min, the test's custom
// objective).
func dominates(a, b archive.Row) bool {
	return a.Top1 >= b.Top1 && a.MAdds <= b.MAdds && a.Layers <= b.Layers &&
		(a.Top1 > b.Top1 || a.MAdds < b.MAdds || a.Layers < b.Layers)
}

func TestSameSeedSameArchive(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		exp := smallExperiment(t, d)
		exp.Iterations = 2
		if _, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true}); err != nil {
			t.Fatal(err)
		}
	}
	sameArchives(t, a, b)
}

func TestResumeAfterCancelEqualsUninterrupted(t *testing.T) {
	ref := t.TempDir()
	exp := smallExperiment(t, ref)
	if _, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	// Count progress events of a full run, then cancel at random points of fresh runs.
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 3; trial++ {
		dir := t.TempDir()
		exp := smallExperiment(t, dir)
		events := 0
		stopAt := 1 + rng.IntN(300)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := transfer.Run(ctx, exp, newNet(t, exp.Space), transfer.Options{NoPlots: true, Progress: func(p transfer.Progress) {
			events++
			if events == stopAt {
				cancel()
			}
		}})
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("trial %d: %v", trial, err)
		}
		before, _ := archive.Iterations(dir)
		// Resume, possibly twice interrupted, with a fresh supernet (as a new process would).
		res, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true})
		if err != nil {
			t.Fatalf("trial %d resume: %v", trial, err)
		}
		t.Logf("trial %d: cancelled at event %d with iterations %v on disk; resumed from %d", trial, stopAt, before, res.ResumedFrom)
		sameArchives(t, ref, dir)
		m, err := archive.ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(before) > 0 && len(m.Resumes) != 1 {
			t.Errorf("manifest records %d resumes", len(m.Resumes))
		}
	}
}

const childEnv = "NAT_TRANSFER_TEST_CHILD_DIR"

// TestMain lets the test binary run an experiment as a child process that the kill test
// terminates with SIGKILL.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		exp := smallExperiment(&testing.T{}, dir)
		net, err := transfertest.New(exp.Space)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		w := bufio.NewWriter(os.Stdout)
		_, err = transfer.Run(context.Background(), exp, net, transfer.Options{NoPlots: true, Progress: func(p transfer.Progress) {
			fmt.Fprintf(w, "%d %s %d\n", p.Iteration, p.Phase, p.Done)
			w.Flush()
		}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestResumeAfterKillEqualsUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ref := t.TempDir()
	exp := smallExperiment(t, ref)
	events := 0
	if _, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true,
		Progress: func(transfer.Progress) { events++ }}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 2; trial++ {
		dir := t.TempDir()
		exp := smallExperiment(t, dir)
		killAt := 1 + rng.IntN(events-1) // the child prints one line per progress event
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		lines, last := 0, ""
		for sc.Scan() {
			lines++
			last = sc.Text()
			if lines == killAt {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		err = cmd.Wait()
		if lines < killAt {
			t.Fatalf("trial %d: child finished after %d progress lines before the kill at %d (err %v, stderr %s)", trial, lines, killAt, err, stderr.String())
		}
		before, _ := archive.Iterations(dir)
		t.Logf("trial %d: killed at progress line %d (%q) with iterations %v on disk", trial, killAt, last, before)
		res, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true})
		if err != nil {
			t.Fatalf("trial %d resume: %v", trial, err)
		}
		if res.Iterations != 3 {
			t.Fatalf("resumed run ended at iteration %d", res.Iterations)
		}
		sameArchives(t, ref, dir)
	}
}

func TestResumeRefusesADifferentExperiment(t *testing.T) {
	dir := t.TempDir()
	exp := smallExperiment(t, dir)
	exp.Iterations = 1
	if _, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	exp.Seed = 8
	_, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true})
	if err == nil || !strings.Contains(err.Error(), `"seed"`) {
		t.Fatalf("got %v, want an error naming the seed", err)
	}
	// Extending a run's iterations is allowed.
	exp.Seed = 7
	exp.Iterations = 2
	res, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true})
	if err != nil || res.Iterations != 2 || res.ResumedFrom != 1 {
		t.Fatalf("extending: %v, %+v", err, res)
	}
}

func TestCheaperReevaluationPolicies(t *testing.T) {
	for _, policy := range []string{transfer.ReevaluateFront, transfer.ReevaluateNone} {
		dir := t.TempDir()
		exp := smallExperiment(t, dir)
		exp.Iterations = 2
		exp.Reevaluate = policy
		net := newNet(t, exp.Space)
		if _, err := transfer.Run(context.Background(), exp, net, transfer.Options{NoPlots: true}); err != nil {
			t.Fatal(err)
		}
		its := readRun(t, dir)
		carried, reeval := 0, 0
		for _, r := range its[2].Rows {
			switch r.Reason {
			case archive.ReasonCarried:
				carried++
			case archive.ReasonReevaluation:
				reeval++
			}
		}
		if carried == 0 || (policy == transfer.ReevaluateNone && reeval != 0) || (policy == transfer.ReevaluateFront && reeval == 0) {
			t.Errorf("%s: %d carried and %d re-evaluated rows", policy, carried, reeval)
		}
		full := 30 + 4 + (30 + 4) + 4 + (30 + 8) // initial, per iteration: candidates + reevaluation of all
		if net.Evaluations >= full {
			t.Errorf("%s: %d evaluations, not fewer than the full policy's %d", policy, net.Evaluations, full)
		}
	}
}

func TestConstraintsHoldForCandidates(t *testing.T) {
	dir := t.TempDir()
	exp := smallExperiment(t, dir)
	exp.Iterations = 2
	exp.Constraints = []transfer.Constraint{{Objective: "madds", Op: "<=", Value: 6}}
	if _, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range readRun(t, dir)[2].Rows {
		if r.Reason == archive.ReasonCandidate {
			n++
			if float64(r.MAdds)/1e6 > 6 {
				t.Errorf("candidate %s has %.2fM MAdds > 6M", r.Genome, float64(r.MAdds)/1e6)
			}
		}
	}
	if n == 0 {
		t.Error("no candidates")
	}
}

// recordingNet records the adaptation requests and the order of adaptation and measurement.
type recordingNet struct {
	*transfertest.Supernet
	reqs   []transfer.AdaptRequest
	events []string
}

func (n *recordingNet) Adapt(ctx context.Context, req transfer.AdaptRequest) error {
	n.reqs = append(n.reqs, req)
	n.events = append(n.events, fmt.Sprintf("adapt@%d", req.Iteration))
	return n.Supernet.Adapt(ctx, req)
}

func (n *recordingNet) Evaluate(ctx context.Context, archs []space.Arch) ([]float64, error) {
	if k := len(n.events); k == 0 || n.events[k-1] != "evaluate" {
		n.events = append(n.events, "evaluate")
	}
	return n.Supernet.Evaluate(ctx, archs)
}

func TestWarmupTrainsBeforeTheInitialArchiveOnOneSchedule(t *testing.T) {
	dir := t.TempDir()
	exp := smallExperiment(t, dir)
	exp.Iterations, exp.WarmupSteps = 2, 25
	net := &recordingNet{Supernet: newNet(t, exp.Space)}
	if _, err := transfer.Run(context.Background(), exp, net, transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"adapt@0", "evaluate", "adapt@1", "evaluate", "adapt@2", "evaluate"}
	if !reflect.DeepEqual(net.events, want) {
		t.Fatalf("events %v, want %v", net.events, want)
	}
	total := 25 + 2*30
	for i, first := range []int{0, 25, 55} {
		r := net.reqs[i]
		if r.FirstStep != first || r.TotalSteps != total {
			t.Errorf("request %d: steps %d..%d of %d, want from %d of %d", i, r.FirstStep, r.FirstStep+r.Steps, r.TotalSteps, first, total)
		}
	}
	if net.Steps != total {
		t.Errorf("trained %d steps, want %d", net.Steps, total)
	}
	its := readRun(t, dir)
	if its[0].Stats.Seconds["adapt"] <= 0 {
		t.Errorf("iteration 0 records no adaptation time: %v", its[0].Stats.Seconds)
	}
	// The warm-up is part of iteration 0: a rerun resumes after it and ends with the same archive.
	again := t.TempDir()
	exp2 := exp
	exp2.OutDir = again
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := transfer.Run(ctx, exp2, newNet(t, exp.Space), transfer.Options{NoPlots: true, Progress: func(p transfer.Progress) {
		if p.Iteration == 0 && p.Phase == transfer.PhaseDone {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run cancelled after iteration 0: %v", err)
	}
	res, err := transfer.Run(context.Background(), exp2, newNet(t, exp.Space), transfer.Options{NoPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 0 {
		t.Errorf("resumed from %d, want 0", res.ResumedFrom)
	}
	sameArchives(t, dir, again)
}

func TestWarmupIsValidated(t *testing.T) {
	exp := smallExperiment(t, t.TempDir())
	exp.WarmupSteps = -1
	if _, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true}); err == nil || !strings.Contains(err.Error(), "WarmupSteps") {
		t.Fatalf("negative warm-up: err %v, want one naming WarmupSteps", err)
	}
}

// TestContendersLeaveOnlyHopelessMembersStale checks ReevaluateContenders' promise from the
// archive files alone: after each iteration, the front consists of subnets measured in that
// iteration, and every member left stale ("carried") would still be dominated had it gained as
// much top-1 as the largest gain measured in that iteration.
func TestContendersLeaveOnlyHopelessMembersStale(t *testing.T) {
	dir := t.TempDir()
	exp := smallExperiment(t, dir)
	exp.Reevaluate = transfer.ReevaluateContenders
	net := newNet(t, exp.Space)
	if _, err := transfer.Run(context.Background(), exp, net, transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	its := readRun(t, dir)
	carriedTotal := 0
	for k := 1; k < len(its); k++ {
		prev := map[string]float64{}
		for _, r := range its[k-1].Rows {
			prev[r.Genome] = r.Top1
		}
		gain := 0.0
		for _, r := range its[k].Rows {
			switch {
			case r.Reason == archive.ReasonReevaluation:
				gain = math.Max(gain, r.Top1-prev[r.Genome])
			case r.Reason == archive.ReasonCandidate && r.Top1AtSelection != nil:
				gain = math.Max(gain, r.Top1-*r.Top1AtSelection)
			}
		}
		for _, c := range its[k].Rows {
			if c.Reason != archive.ReasonCarried {
				continue
			}
			carriedTotal++
			if c.Front {
				t.Errorf("iteration %d: stale member %s is on the front", k, c.Genome)
			}
			hopeful := c
			hopeful.Top1 = math.Min(100, c.Top1+gain)
			dominated := false
			for _, r := range its[k].Rows {
				// The experiment's objectives: top-1 (max) and MAdds (min).
				if r.Reason != archive.ReasonCarried && r.Top1 >= hopeful.Top1 && r.MAdds <= hopeful.MAdds && (r.Top1 > hopeful.Top1 || r.MAdds < hopeful.MAdds) {
					dominated = true
					break
				}
			}
			if !dominated {
				t.Errorf("iteration %d: stale member %s (top-1 %.2f, +%.2f gain) could reach the front but was not re-measured", k, c.Genome, c.Top1, gain)
			}
		}
	}
	if carriedTotal == 0 {
		t.Errorf("every member was re-measured: the policy saved nothing on this run")
	}
	t.Logf("%d stale rows over %d iterations; %d evaluations", carriedTotal, len(its)-1, net.Evaluations)
}
