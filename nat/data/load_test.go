package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The real datasets are loaded once per test binary: decompressing MNIST
// takes about half a second.
var (
	mnistOnce, fashionOnce       sync.Once
	mnistTrain, mnistTest        *Dataset
	fashionTrain, fashionTest    *Dataset
	mnistLoadErr, fashionLoadErr error
)

func loadMNIST(t testing.TB) (train, test *Dataset) {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistTest, mnistLoadErr = Load("mnist", LoadOptions{}) })
	if mnistLoadErr != nil {
		t.Fatal(mnistLoadErr)
	}
	return mnistTrain, mnistTest
}

// loadFashion fails (never skips): .ci/run installs dataset-fashion-mnist.
func loadFashion(t testing.TB) (train, test *Dataset) {
	t.Helper()
	fashionOnce.Do(func() { fashionTrain, fashionTest, fashionLoadErr = Load("fashion-mnist", LoadOptions{}) })
	if fashionLoadErr != nil {
		t.Fatal(fashionLoadErr)
	}
	return fashionTrain, fashionTest
}

func checkShape(t *testing.T, d *Dataset, n int) {
	t.Helper()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.N != n || d.Height != 28 || d.Width != 28 || d.Channels != 1 || d.Classes != 10 || len(d.ClassNames) != 10 {
		t.Fatalf("%s: N=%d %dx%dx%d classes=%d, want N=%d 28x28x1 classes=10", d.Name, d.N, d.Height, d.Width, d.Channels, d.Classes, n)
	}
}

func TestLoadMNIST(t *testing.T) {
	train, test := loadMNIST(t)
	checkShape(t, train, 60000)
	checkShape(t, test, 10000)
	// Per-class counts of the original MNIST files (LeCun et al.; the same
	// numbers torchvision's MNIST gives with Counter(targets)).
	wantTrain := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	for c, n := range train.ClassCounts() {
		if n != wantTrain[c] {
			t.Errorf("train class %d: %d samples, want %d", c, n, wantTrain[c])
		}
	}
	for c, n := range test.ClassCounts() {
		if n != wantTest[c] {
			t.Errorf("test class %d: %d samples, want %d", c, n, wantTest[c])
		}
	}
	// The first training digit is the famous "5", the first test digit a 7.
	if train.Labels[0] != 5 || test.Labels[0] != 7 {
		t.Errorf("first labels %d, %d; want 5, 7", train.Labels[0], test.Labels[0])
	}
	// Normalisation constants used throughout the PyTorch MNIST examples:
	// mean 0.1307, std 0.3081 over the training pixels.
	mean, std := train.MeanStd()
	if math.Abs(float64(mean[0])-0.1307) > 5e-5 || math.Abs(float64(std[0])-0.3081) > 5e-5 {
		t.Errorf("MNIST train mean/std %.5f/%.5f, want 0.1307/0.3081", mean[0], std[0])
	}
}

func TestLoadFashionMNIST(t *testing.T) {
	train, test := loadFashion(t)
	checkShape(t, train, 60000)
	checkShape(t, test, 10000)
	// Fashion-MNIST is balanced: 6,000 training and 1,000 test images per
	// class (Xiao, Rasul, Vollgraf 2017, README).
	for c, n := range train.ClassCounts() {
		if n != 6000 {
			t.Errorf("train class %d: %d samples, want 6000", c, n)
		}
	}
	for c, n := range test.ClassCounts() {
		if n != 1000 {
			t.Errorf("test class %d: %d samples, want 1000", c, n)
		}
	}
	if train.ClassNames[9] != "Ankle boot" || train.ClassNames[0] != "T-shirt/top" {
		t.Errorf("class names %q", train.ClassNames)
	}
	// Widely used Fashion-MNIST normalisation: mean 0.2860, std 0.3530.
	mean, std := train.MeanStd()
	if math.Abs(float64(mean[0])-0.2860) > 5e-5 || math.Abs(float64(std[0])-0.3530) > 5e-5 {
		t.Errorf("Fashion-MNIST train mean/std %.5f/%.5f, want 0.2860/0.3530", mean[0], std[0])
	}
}

// writeIDX writes a gzip IDX file of unsigned bytes.
func writeIDX(t *testing.T, path string, dims []int, data []byte) {
	t.Helper()
	var raw bytes.Buffer
	raw.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&raw, binary.BigEndian, uint32(d))
	}
	raw.Write(data)
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(raw.Bytes())
	w.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTinyMNIST writes a 6-train / 4-test, 3x2 dataset into dir.
func writeTinyMNIST(t *testing.T, dir string) {
	t.Helper()
	px := func(n int) []byte {
		b := make([]byte, n*6)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), []int{6, 3, 2}, px(6))
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte.gz"), []int{6}, []byte{0, 1, 2, 3, 4, 9})
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), []int{4, 3, 2}, px(4))
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), []int{4}, []byte{5, 6, 7, 8})
}

func TestLoadFromDataDir(t *testing.T) {
	dir := t.TempDir()
	writeTinyMNIST(t, filepath.Join(dir, "fashion-mnist"))
	train, test, err := Load("fashion-mnist", LoadOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 6 || test.N != 4 || train.Height != 3 || train.Width != 2 || train.Labels[5] != 9 || test.Pixels[23] != 23 {
		t.Fatalf("tiny dataset read wrongly: train N=%d test N=%d %dx%d", train.N, test.N, train.Height, train.Width)
	}
	// The environment variable works the same way, and MaxTrain trims.
	t.Setenv(EnvDataDir, dir)
	train, _, err = Load("fashion-mnist", LoadOptions{MaxTrain: 2})
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 2 || len(train.Pixels) != 12 || len(train.Labels) != 2 {
		t.Fatalf("MaxTrain: N=%d, %d pixels", train.N, len(train.Pixels))
	}
}

func TestLoadReportsCorruptFiles(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(t *testing.T, dir string) string // returns the file that must be named
		want  string
	}{
		{"truncated images", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-12], 0o644)
			return p
		}, "truncated"},
		{"label out of range", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")
			writeIDX(t, p, []int{4}, []byte{5, 6, 7, 10})
			return p
		}, "label 10 at index 3 is outside [0, 10)"},
		{"count mismatch", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "train-labels-idx1-ubyte.gz")
			writeIDX(t, p, []int{5}, []byte{0, 1, 2, 3, 4})
			return p
		}, "holds 6 images but"},
		{"labels in image file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
			writeIDX(t, p, []int{6}, []byte{0, 1, 2, 3, 4, 5})
			return p
		}, "want 3 dimensions"},
		{"missing file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")
			os.Remove(p)
			return dir
		}, "incomplete: missing t10k-labels-idx1-ubyte.gz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTinyMNIST(t, dir)
			named := c.spoil(t, dir)
			_, _, err := Load("mnist", LoadOptions{DataDir: dir})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), named) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q should name %s and say %q", err, named, c.want)
			}
		})
	}
}

func TestMissingDatasetSaysHowToInstall(t *testing.T) {
	empty := t.TempDir()
	spec := fashionSpec()
	spec.dirs = func() ([]string, error) { return []string{filepath.Join(empty, "nowhere")}, nil }
	_, _, err := loadMNISTLike(spec, LoadOptions{DataDir: empty})
	if err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") ||
		!strings.Contains(err.Error(), filepath.Join(empty, "nowhere")) {
		t.Fatalf("fashion-mnist: error %v should list where it looked and how to install", err)
	}

	// With every module cache pointed at an empty directory, MNIST is not
	// found, and the error says how to fetch the module.
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	t.Setenv(EnvDataDir, "")
	// Load asks the go command, whose telemetry may still be writing under the user config
	// directory after it exits: keep that out of the test's TempDir (whose cleanup would then
	// fail the test) and remove it best-effort.
	cfg, err := os.MkdirTemp("", "nat-data-test-config-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(cfg) })
	t.Setenv("XDG_CONFIG_HOME", cfg)
	_, _, err = Load("mnist", LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "go mod download "+GoMNISTModule) {
		t.Fatalf("mnist: error %v should say how to download the module", err)
	}

	if _, _, err := Load("cifar10", LoadOptions{}); err == nil || !strings.Contains(err.Error(), `unknown dataset "cifar10"`) {
		t.Fatalf("unknown name: %v", err)
	}
}

// BenchmarkLoadMNIST measures reading and checking the four gzip IDX files.
func BenchmarkLoadMNIST(b *testing.B) {
	for b.Loop() {
		if _, _, err := Load("mnist", LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// When neither GOMODCACHE, GOPATH nor ~/go holds GoMNIST, Load asks the go
// command, which also honours settings made with `go env -w` (here through a
// GOENV file).
func TestMNISTFoundThroughGoEnv(t *testing.T) {
	real, err := goEnv("GOMODCACHE")
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	envFile := filepath.Join(empty, "go.env")
	if err := os.WriteFile(envFile, []byte("GOMODCACHE="+real+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOMODCACHE", "")
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	t.Setenv("GOENV", envFile)
	t.Setenv(EnvDataDir, "")
	dirs, err := gomnistDataDirs()
	if err != nil {
		t.Fatal(err)
	}
	last := dirs[len(dirs)-1]
	if !strings.HasPrefix(last, real) {
		t.Fatalf("go env's cache %s not searched; searched %v", real, dirs)
	}
	if _, found, missing := findIn(last); !found || len(missing) > 0 {
		t.Fatalf("%s: found=%v missing=%v", last, found, missing)
	}
}
