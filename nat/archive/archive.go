// Package archive stores a NAT run on disk: one Parquet file per completed iteration of the
// transfer loop, plus a JSON run manifest. It is what `nat archive show`, the notebooks and the
// results/ tables read, and what a rerun of an interrupted experiment resumes from.
//
// It is not the loop (nat/transfer) and computes nothing about architectures: rows arrive
// filled in.
//
// # Layout of a run directory
//
//	manifest.json          the experiment, versions, backend, run id, hypervolume reference point
//	iter-0000.parquet      the archive after iteration 0 (the initial archive)
//	iter-0001.parquet      the archive after iteration 1
//	...
//	checkpoints/           adapted supernet weights per iteration (the last few; see nat/transfer)
//	pareto.svg, pareto.png the latest front (see PlotFront)
//
// Each iteration file is written under a temporary name, fsynced, closed and renamed, and the
// directory is fsynced: a file named iter-NNNN.parquet is always complete, and its presence is
// what marks iteration NNNN as finished.
//
// # Row schema (one row per subnet of the archive, per iteration; zstd-compressed)
//
// Each file holds the whole archive as it stands at the end of its iteration, so one file is
// enough to read a front; a subnet evaluated in iteration 3 appears again in every later file.
//
//	column             type                         meaning
//	run_id             string                       identifies the run (same in every file of a run)
//	iteration          int32                        the iteration this file records (0 = initial archive)
//	reason             string                       why the row exists: "initial" (iteration 0),
//	                                                "candidate" (chosen by the search in this iteration),
//	                                                "reevaluation" (measured again with this iteration's
//	                                                adapted weights), "carried" (not measured again: its
//	                                                top1 is from an earlier iteration, under a cheaper
//	                                                re-evaluation policy), "random" (a random-search
//	                                                baseline's subnet)
//	first_iteration    int32                        the iteration the subnet entered the archive
//	genome             string                       NAT's encoding as written by space.Format ("08011001440551052208877")
//	genes              list<int32>                  the same genome, one integer per gene
//	arch               string                       the decoded subnet in net.subnet JSON ({"r":..,"w":..,"d":..,"ks":..,"e":..})
//	summary            string                       the decoded subnet on one line (space.Arch.String)
//	resolution         int32                        input resolution
//	width              double                       width multiplier
//	layers             int32                        number of searched layers (sum of stage depths)
//	top1               double                       top-1 accuracy in percent on the validation split, as known
//	                                                at the end of this iteration
//	top1_at_selection  double, nullable             candidates only: top-1 measured when the subnet was chosen,
//	                                                before this iteration's adaptation
//	top1_predicted     double, nullable             candidates only: the surrogate's prediction that chose it
//	madds              int64                        conv + FC multiply-adds (nat/cost), always filled
//	params             int64                        parameters (nat/cost), always filled
//	objectives         list<struct<name string,     every objective of the experiment in its declared order,
//	                     value double>>             in natural units and sense (top1 in percent, maximised;
//	                                                madds, params, latency_ms, custom objectives as defined)
//	front              bool                         non-dominated within this file on the experiment's objectives
//	wall_seconds       double                       wall time spent measuring this row's top1 (its share of the batch)
//	seed               uint64                       the experiment's seed
//
// Each file's key-value metadata holds "nat.iteration" and "nat.stats" (IterationStats as JSON:
// hypervolume, its reference point, the predictor and its Kendall tau on the new candidates, phase
// times).
package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// Reasons a row exists (the reason column).
const (
	ReasonInitial      = "initial"
	ReasonCandidate    = "candidate"
	ReasonReevaluation = "reevaluation"
	ReasonCarried      = "carried"
	ReasonRandom       = "random" // a random-search baseline's subnet (nat/transfer.RandomSearch)
)

// Objective is one named objective value of a row, in natural units and sense.
type Objective struct {
	Name  string  `parquet:"name" json:"name"`
	Value float64 `parquet:"value" json:"value"`
}

// Row is one subnet of the archive in one iteration. The field tags are the Parquet schema
// documented in the package comment.
type Row struct {
	RunID           string      `parquet:"run_id,dict" json:"run_id"`
	Iteration       int32       `parquet:"iteration" json:"iteration"`
	Reason          string      `parquet:"reason,dict" json:"reason"`
	FirstIteration  int32       `parquet:"first_iteration" json:"first_iteration"`
	Genome          string      `parquet:"genome" json:"genome"`
	Genes           []int32     `parquet:"genes,list" json:"genes"`
	Arch            string      `parquet:"arch" json:"arch"`
	Summary         string      `parquet:"summary" json:"summary"`
	Resolution      int32       `parquet:"resolution" json:"resolution"`
	Width           float64     `parquet:"width" json:"width"`
	Layers          int32       `parquet:"layers" json:"layers"`
	Top1            float64     `parquet:"top1" json:"top1"`
	Top1AtSelection *float64    `parquet:"top1_at_selection,optional" json:"top1_at_selection,omitempty"`
	Top1Predicted   *float64    `parquet:"top1_predicted,optional" json:"top1_predicted,omitempty"`
	MAdds           int64       `parquet:"madds" json:"madds"`
	Params          int64       `parquet:"params" json:"params"`
	Objectives      []Objective `parquet:"objectives,list" json:"objectives"`
	Front           bool        `parquet:"front" json:"front"`
	WallSeconds     float64     `parquet:"wall_seconds" json:"wall_seconds"`
	Seed            uint64      `parquet:"seed" json:"seed"`
}

// Objective returns the value of the named objective of the row.
func (r *Row) Objective(name string) (float64, bool) {
	for _, o := range r.Objectives {
		if o.Name == name {
			return o.Value, true
		}
	}
	return 0, false
}

// IterationStats summarises one iteration; it is stored in the iteration file's metadata.
type IterationStats struct {
	Iteration   int `json:"iteration"`
	ArchiveSize int `json:"archive_size"`
	Candidates  int `json:"candidates"`
	FrontSize   int `json:"front_size"`
	// Hypervolume of the archive's measured front after normalising each minimised objective
	// from [Ideal, Nadir] to [0, 1] (fixed from the initial archive; see nat/transfer), with the
	// reference point at 1.01 in every normalised objective. ReferencePoint is that point in
	// the objectives' own (minimised) units.
	Hypervolume    float64   `json:"hypervolume"`
	Ideal          []float64 `json:"ideal"`
	Nadir          []float64 `json:"nadir"`
	ReferencePoint []float64 `json:"reference_point"`
	// Objectives names the objectives in the order of ReferencePoint, as minimised
	// ("error" for top1: 100 - top1).
	Objectives []string `json:"objectives"`
	BestTop1   float64  `json:"best_top1"`
	// Predictor is the surrogate chosen this iteration; KendallTau its rank correlation between
	// predicted and measured top-1 of this iteration's candidates (absent when there were
	// fewer than two candidates or no predictor, as in iteration 0).
	Predictor  string   `json:"predictor,omitempty"`
	KendallTau *float64 `json:"kendall_tau,omitempty"`
	// Seconds spent per phase (fit, search, evaluate, adapt, reevaluate) and in total.
	Seconds map[string]float64 `json:"seconds"`
}

const (
	metaIteration = "nat.iteration"
	metaStats     = "nat.stats"
)

var iterFile = regexp.MustCompile(`^iter-(\d{4,})\.parquet$`)

// FileName is the name of iteration i's file.
func FileName(i int) string { return fmt.Sprintf("iter-%04d.parquet", i) }

// WriteIteration writes iteration i's rows atomically to dir (see the package comment).
func WriteIteration(dir string, i int, rows []Row, stats IterationStats) error {
	statsJSON, err := json.Marshal(stats)
	if err != nil {
		return fmt.Errorf("archive: iteration %d stats: %w", i, err)
	}
	opts := []parquet.WriterOption{
		parquet.Compression(&parquet.Zstd),
		parquet.KeyValueMetadata(metaIteration, strconv.Itoa(i)),
		parquet.KeyValueMetadata(metaStats, string(statsJSON)),
	}
	return writeAtomic(dir, FileName(i), func(f *os.File) error {
		w := parquet.NewGenericWriter[Row](f, opts...)
		if _, err := w.Write(rows); err != nil {
			return err
		}
		return w.Close()
	})
}

// writeAtomic writes name in dir through a temporary file that is fsynced and renamed, then
// fsyncs the directory so the rename itself survives a crash.
func writeAtomic(dir, name string, write func(f *os.File) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("archive: writing %s: %w", filepath.Join(dir, name), err)
	}
	if err := write(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("archive: writing %s: %w", filepath.Join(dir, name), err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("archive: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("archive: fsync %s: %w", dir, err)
	}
	return nil
}

// Iteration is one iteration file read back.
type Iteration struct {
	Index int
	Path  string
	Rows  []Row
	Stats IterationStats
}

// ReadIteration reads one iteration file.
func ReadIteration(path string) (*Iteration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("archive: %s: %w", path, err)
	}
	it := &Iteration{Path: path}
	s, ok := pf.Lookup(metaIteration)
	if !ok {
		return nil, fmt.Errorf("archive: %s: no %q metadata: not a NAT archive file", path, metaIteration)
	}
	if it.Index, err = strconv.Atoi(s); err != nil {
		return nil, fmt.Errorf("archive: %s: bad %q metadata %q", path, metaIteration, s)
	}
	if s, ok := pf.Lookup(metaStats); ok {
		if err := json.Unmarshal([]byte(s), &it.Stats); err != nil {
			return nil, fmt.Errorf("archive: %s: bad %q metadata: %w", path, metaStats, err)
		}
	}
	rows := make([]Row, pf.NumRows())
	r := parquet.NewGenericReader[Row](pf)
	n, err := r.Read(rows)
	r.Close()
	if err != nil && n != len(rows) {
		return nil, fmt.Errorf("archive: %s: reading rows: %w", path, err)
	}
	it.Rows = rows[:n]
	return it, nil
}

// Iterations lists the complete iterations in dir, ascending. Temporary files of an
// interrupted write are ignored.
func Iterations(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	var out []int
	for _, e := range entries {
		m := iterFile.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		i, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
}

// Latest reads the last complete iteration of dir; it returns (nil, nil) when there is none.
func Latest(dir string) (*Iteration, error) {
	its, err := Iterations(dir)
	if err != nil || len(its) == 0 {
		return nil, err
	}
	return ReadIteration(filepath.Join(dir, FileName(its[len(its)-1])))
}

// ReadAll reads every complete iteration of dir, ascending.
func ReadAll(dir string) ([]*Iteration, error) {
	its, err := Iterations(dir)
	if err != nil {
		return nil, err
	}
	out := make([]*Iteration, 0, len(its))
	for _, i := range its {
		it, err := ReadIteration(filepath.Join(dir, FileName(i)))
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// RemoveTemporaries deletes the temporary files an interrupted write left in dir.
func RemoveTemporaries(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("archive: %w", err)
	}
	for _, e := range entries {
		if ok, _ := filepath.Match(".*.tmp-*", e.Name()); ok && !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("archive: %w", err)
			}
		}
	}
	return nil
}
