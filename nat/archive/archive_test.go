package archive_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/natgo/nat/nat/archive"
)

func f(v float64) *float64 { return &v }

func sampleRows(iter int) []archive.Row {
	return []archive.Row{
		{RunID: "r-1", Iteration: int32(iter), Reason: archive.ReasonInitial, Genome: "00011001100110011001100", Genes: []int32{0, 0, 1, 1, 0, 0},
			Arch: `{"r":20,"w":1,"d":[2,2,2,2,2]}`, Summary: "r20 w1.0 d[2 2 2 2 2]", Resolution: 20, Width: 1, Layers: 10,
			Top1: 81.5, MAdds: 2_500_000, Params: 300_000,
			Objectives: []archive.Objective{{Name: "top1", Value: 81.5}, {Name: "madds", Value: 2.5}}, Front: true, WallSeconds: 0.25, Seed: 7},
		{RunID: "r-1", Iteration: int32(iter), Reason: archive.ReasonCandidate, FirstIteration: int32(iter), Genome: "03099999999999999999999",
			Genes: []int32{3, 0, 9, 9, 9, 9}, Arch: `{"r":32}`, Summary: "big", Resolution: 32, Width: 1, Layers: 20,
			Top1: 90.25, Top1AtSelection: f(89.5), Top1Predicted: f(88), MAdds: 19_000_000, Params: 900_000,
			Objectives: []archive.Objective{{Name: "top1", Value: 90.25}, {Name: "madds", Value: 19}}, Front: true, WallSeconds: 0.5, Seed: 7},
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	tau := 0.6
	stats := archive.IterationStats{Iteration: 2, ArchiveSize: 2, Candidates: 1, FrontSize: 2, Hypervolume: 0.75,
		Ideal: []float64{-100, 2.5}, Nadir: []float64{0, 19}, ReferencePoint: []float64{1, 19.165},
		Objectives: []string{"error", "madds"}, BestTop1: 90.25, Predictor: "as:rbf", KendallTau: &tau,
		Seconds: map[string]float64{"total": 3}}
	rows := sampleRows(2)
	if err := archive.WriteIteration(dir, 2, rows, stats); err != nil {
		t.Fatal(err)
	}
	it, err := archive.ReadIteration(filepath.Join(dir, archive.FileName(2)))
	if err != nil {
		t.Fatal(err)
	}
	if it.Index != 2 || !reflect.DeepEqual(it.Rows, rows) || !reflect.DeepEqual(it.Stats, stats) {
		t.Fatalf("round trip:\n%+v\n%+v\nstats %+v", it.Rows, rows, it.Stats)
	}
	if v, ok := it.Rows[1].Objective("madds"); !ok || v != 19 {
		t.Errorf("Objective(madds) = %v, %v", v, ok)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after one write, want 1 (no temporaries)", len(entries))
	}
}

func TestIterationsIgnoresTemporariesAndOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for _, i := range []int{0, 1, 3} {
		if err := archive.WriteIteration(dir, i, sampleRows(i), archive.IterationStats{Iteration: i}); err != nil {
			t.Fatal(err)
		}
	}
	// What a kill in the middle of a write leaves behind, and unrelated files.
	for _, name := range []string{".iter-0004.parquet.tmp-123", "iter-5.parquet", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	its, err := archive.Iterations(dir)
	if err != nil || !reflect.DeepEqual(its, []int{0, 1, 3}) {
		t.Fatalf("Iterations = %v, %v", its, err)
	}
	last, err := archive.Latest(dir)
	if err != nil || last.Index != 3 {
		t.Fatalf("Latest = %+v, %v", last, err)
	}
	if err := archive.RemoveTemporaries(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".iter-0004.parquet.tmp-123")); !os.IsNotExist(err) {
		t.Errorf("temporary file survived RemoveTemporaries: %v", err)
	}
	all, err := archive.ReadAll(dir)
	if err != nil || len(all) != 3 {
		t.Fatalf("ReadAll: %d, %v", len(all), err)
	}
}

func TestReadRejectsForeignParquet(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.parquet")
	if err := os.WriteFile(path, []byte("not parquet at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := archive.ReadIteration(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want an error naming the file", err)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := archive.ReadManifest(dir); err == nil {
		t.Fatal("reading a missing manifest succeeded")
	}
	m := &archive.Manifest{RunID: "r-1", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Experiment: []byte(`{"seed":7}`), Objectives: []string{"top1", "madds"}, Seed: 7, Backend: "fake",
		Versions: archive.CurrentVersions()}
	if err := archive.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := archive.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.RunID != m.RunID || !got.Created.Equal(m.Created) || compact(got.Experiment) != `{"seed":7}` || got.Versions.Go == "" {
		t.Fatalf("manifest round trip: %+v", got)
	}
}

func TestPlotFrontWritesSVGAndPNG(t *testing.T) {
	dir := t.TempDir()
	if err := archive.PlotFront(sampleRows(0), dir, "front", archive.PlotOptions{}); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "front.svg"))
	if err != nil || !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "madds") {
		t.Fatalf("svg: %v, %.100s", err, svg)
	}
	png, err := os.ReadFile(filepath.Join(dir, "front.png"))
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("png: %v", err)
	}
	if err := archive.PlotFront(sampleRows(0), dir, "front", archive.PlotOptions{X: "latency"}); err == nil {
		t.Error("plotting a missing objective succeeded")
	}
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

func TestRenderFrontInMemory(t *testing.T) {
	b, err := archive.RenderFront(sampleRows(0), "svg", archive.PlotOptions{Title: "live"})
	if err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "live") {
		t.Fatalf("RenderFront: %v, %.80s", err, b)
	}
	if _, err := archive.RenderFront(nil, "svg", archive.PlotOptions{}); err == nil {
		t.Error("rendered no rows")
	}
}
