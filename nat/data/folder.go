package data

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // register the JPEG decoder for image.Decode
	_ "image/png"  // register the PNG decoder for image.Decode
	"math"
	"os"
	"path/filepath"
	"strings"
)

// FolderOptions controls [LoadFolder]. The zero value is ready to use.
type FolderOptions struct {
	// ImageSize, when positive, resizes every image to ImageSize x
	// ImageSize (bilinear, as in BatchOptions.Resolution) at load time.
	// Zero requires all images to have the same size and keeps it.
	ImageSize int
	// Channels is 1 (grey) or 3 (RGB). Zero means 1 when every image is
	// stored as grey and 3 otherwise. Transparent pixels are composited onto
	// black.
	Channels int
	// TestFraction is the fraction of samples held out as the test set
	// (stratified, see Dataset.Split) when the folder has no test/ or val/
	// subfolder. Default 0.2.
	TestFraction float64
	// Seed drives that hold-out.
	Seed uint64
}

// isImageFile reports whether LoadFolder reads a file of this name.
func isImageFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// LoadFolder loads a dataset of image files laid out like torchvision's
// ImageFolder: one subfolder per class, named after the class, holding PNG or
// JPEG files (other files and hidden entries are ignored). Class indices
// follow the sorted folder names.
//
// If root has a train/ subfolder, that is the training set, and test/ (or
// else val/) the test set, which must have the same class folders. Without
// train/, root's subfolders are the classes and a stratified, seeded
// TestFraction of the samples is held out as the test set.
func LoadFolder(root string, opt FolderOptions) (train, test *Dataset, err error) {
	if opt.Channels != 0 && opt.Channels != 1 && opt.Channels != 3 {
		return nil, nil, fmt.Errorf("folder dataset %s: Channels = %d, want 0 (auto), 1 or 3", root, opt.Channels)
	}
	if opt.ImageSize < 0 {
		return nil, nil, fmt.Errorf("folder dataset %s: negative ImageSize %d", root, opt.ImageSize)
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("folder dataset: %w", err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("folder dataset %s: not a directory", root)
	}
	name := "folder:" + root
	trainDir := filepath.Join(root, "train")
	if isDir(trainDir) {
		testDir := filepath.Join(root, "test")
		if !isDir(testDir) {
			testDir = filepath.Join(root, "val")
		}
		if !isDir(testDir) {
			return nil, nil, fmt.Errorf("folder dataset %s: has train/ but neither test/ nor val/", root)
		}
		train, err = readImageFolder(trainDir, name+"/train", opt, 0)
		if err != nil {
			return nil, nil, err
		}
		test, err = readImageFolder(testDir, name+"/test", opt, train.Channels)
		if err != nil {
			return nil, nil, err
		}
		if strings.Join(train.ClassNames, "\x00") != strings.Join(test.ClassNames, "\x00") {
			return nil, nil, fmt.Errorf("folder dataset %s: class folders differ between %s %q and %s %q",
				root, trainDir, train.ClassNames, testDir, test.ClassNames)
		}
		if train.Height != test.Height || train.Width != test.Width {
			return nil, nil, fmt.Errorf("folder dataset %s: training images are %dx%d but test images are %dx%d; set ImageSize",
				root, train.Height, train.Width, test.Height, test.Width)
		}
		return train, test, nil
	}
	all, err := readImageFolder(root, name, opt, 0)
	if err != nil {
		return nil, nil, err
	}
	frac := opt.TestFraction
	if frac == 0 {
		frac = 0.2
	}
	if !(frac > 0 && frac < 1) {
		return nil, nil, fmt.Errorf("folder dataset %s: TestFraction %g must be in (0, 1)", root, frac)
	}
	nTest := int(math.Round(frac * float64(all.N)))
	if nTest < 1 || nTest >= all.N {
		return nil, nil, fmt.Errorf("folder dataset %s: %d images are too few to hold out a %g test fraction", root, all.N, frac)
	}
	train, test, err = all.Split(nTest, opt.Seed^streamFolder)
	if err != nil {
		return nil, nil, err
	}
	train.Name, test.Name = name+"/train", name+"/test"
	return train, test, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// readImageFolder reads dir's class subfolders. channels, when non-zero,
// overrides opt.Channels (so a test set matches its training set).
func readImageFolder(dir, name string, opt FolderOptions, channels int) (*Dataset, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("folder dataset: %w", err)
	}
	type item struct {
		path  string
		label int32
	}
	var classes []string
	var items []item
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		cdir := filepath.Join(dir, e.Name())
		files, err := os.ReadDir(cdir)
		if err != nil {
			return nil, fmt.Errorf("folder dataset: %w", err)
		}
		n := 0
		for _, f := range files {
			if f.IsDir() || strings.HasPrefix(f.Name(), ".") || !isImageFile(f.Name()) {
				continue
			}
			items = append(items, item{filepath.Join(cdir, f.Name()), int32(len(classes))})
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("folder dataset: class folder %s holds no .png, .jpg or .jpeg file", cdir)
		}
		classes = append(classes, e.Name())
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("folder dataset: %s has no class subfolders (want one folder per class holding PNG or JPEG images)", dir)
	}
	if channels == 0 {
		channels = opt.Channels
	}
	if channels == 0 {
		channels = 1
		for _, it := range items {
			gray, err := isGrayFile(it.path)
			if err != nil {
				return nil, err
			}
			if !gray {
				channels = 3
				break
			}
		}
	}
	d := &Dataset{Name: name, N: len(items), Channels: channels, Classes: len(classes), ClassNames: classes,
		Labels: make([]int32, len(items))}
	for i, it := range items {
		img, err := decodeFile(it.path)
		if err != nil {
			return nil, err
		}
		b := img.Bounds()
		h, w := b.Dy(), b.Dx()
		if i == 0 {
			d.Height, d.Width = h, w
			if opt.ImageSize > 0 {
				d.Height, d.Width = opt.ImageSize, opt.ImageSize
			}
			d.Pixels = make([]uint8, 0, len(items)*d.ImageSize())
		}
		if opt.ImageSize == 0 && (h != d.Height || w != d.Width) {
			return nil, fmt.Errorf("folder dataset: %s is %dx%d but %s is %dx%d; set ImageSize to resize all images to one size",
				it.path, w, h, items[0].path, d.Width, d.Height)
		}
		px := toPixels(img, channels)
		if h != d.Height || w != d.Width {
			px = resizeUint8(px, h, w, channels, d.Height, d.Width)
		}
		d.Pixels = append(d.Pixels, px...)
		d.Labels[i] = it.label
	}
	return d, nil
}

func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("folder dataset: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("folder dataset: decoding %s: %w", path, err)
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fmt.Errorf("folder dataset: %s is an empty image", path)
	}
	return img, nil
}

func isGrayFile(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("folder dataset: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return false, fmt.Errorf("folder dataset: decoding %s: %w", path, err)
	}
	return cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.Gray16Model, nil
}

// toPixels converts img to HWC bytes with 1 (luma, as color.GrayModel) or 3
// (RGB, alpha composited onto black) channels.
func toPixels(img image.Image, channels int) []uint8 {
	b := img.Bounds()
	if channels == 1 {
		g, ok := img.(*image.Gray)
		if !ok || g.Stride != b.Dx() {
			g = image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
			draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
		}
		return g.Pix
	}
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
	out := make([]uint8, b.Dx()*b.Dy()*3)
	for i := range b.Dx() * b.Dy() {
		copy(out[3*i:3*i+3], rgba.Pix[4*i:4*i+3])
	}
	return out
}

// resizeUint8 resizes an HWC byte image with the same bilinear convention as
// batches (see bilinearTaps), rounding to the nearest byte.
func resizeUint8(src []uint8, h, w, c, oh, ow int) []uint8 {
	ys, xs := bilinearTaps(h, oh), bilinearTaps(w, ow)
	out := make([]uint8, oh*ow*c)
	for y, ty := range ys {
		for x, tx := range xs {
			for k := range c {
				at := func(yy, xx int32) float32 { return float32(src[(int(yy)*w+int(xx))*c+k]) }
				top := at(ty.i0, tx.i0) + tx.w1*(at(ty.i0, tx.i1)-at(ty.i0, tx.i0))
				bot := at(ty.i1, tx.i0) + tx.w1*(at(ty.i1, tx.i1)-at(ty.i1, tx.i0))
				v := top + ty.w1*(bot-top)
				out[(y*ow+x)*c+k] = uint8(math.Round(float64(min(max(v, 0), 255))))
			}
		}
	}
	return out
}
