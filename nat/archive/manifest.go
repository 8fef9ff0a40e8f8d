package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"
)

// ManifestName is the run manifest's file name inside a run directory.
const ManifestName = "manifest.json"

// Manifest describes a run: what was asked for and what ran it. It is written once when a run
// starts and rewritten (atomically) when a run is resumed, with the resume recorded.
type Manifest struct {
	RunID   string    `json:"run_id"`
	Created time.Time `json:"created"`
	// Kind is "nat" for the transfer loop, "random-search" for the random baseline.
	Kind string `json:"kind"`
	// Experiment is the experiment as JSON (nat/transfer.Experiment).
	Experiment json.RawMessage `json:"experiment"`
	// Objectives names the experiment's objectives in archive order.
	Objectives []string `json:"objectives"`
	Seed       uint64   `json:"seed"`
	// Backend names what measured top-1 (for example "gomlx go backend" or "fake").
	Backend  string   `json:"backend"`
	Versions Versions `json:"versions"`
	// Resumes records when the run was continued and from which iteration.
	Resumes []Resume `json:"resumes,omitempty"`
}

// Resume is one continuation of an interrupted run.
type Resume struct {
	At            time.Time `json:"at"`
	FromIteration int       `json:"from_iteration"`
}

// Versions are the program and library versions that produced a run.
type Versions struct {
	Go     string            `json:"go"`
	Module string            `json:"module"`
	OS     string            `json:"os"`
	Arch   string            `json:"arch"`
	CPUs   int               `json:"cpus"`
	Deps   map[string]string `json:"deps,omitempty"`
}

// CurrentVersions reads the running binary's build information.
func CurrentVersions() Versions {
	v := Versions{Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Module = bi.Main.Path + "@" + bi.Main.Version
		v.Deps = map[string]string{}
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/gomlx/gomlx", "github.com/gomlx/compute", "github.com/parquet-go/parquet-go",
				"gonum.org/v1/gonum", "gonum.org/v1/plot", "github.com/traefik/yaegi":
				v.Deps[d.Path] = d.Version
			}
		}
	}
	return v
}

// WriteManifest writes dir/manifest.json atomically.
func WriteManifest(dir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("archive: manifest: %w", err)
	}
	data = append(data, '\n')
	return writeAtomic(dir, ManifestName, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// ErrNoManifest is returned (wrapped) by ReadManifest when the directory has no manifest.
var ErrNoManifest = errors.New("no run manifest")

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("archive: %s: %w", dir, ErrNoManifest)
		}
		return nil, fmt.Errorf("archive: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("archive: %s: %w", path, err)
	}
	return &m, nil
}

// WriteFileAtomic writes data to dir/name through a fsynced temporary file and a rename. The
// transfer loop uses it for checkpoints' companions and plots.
func WriteFileAtomic(dir, name string, data []byte) error {
	return writeAtomic(dir, name, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}
