package data

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeImage writes img as PNG or JPEG (by extension) at path.
func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".png") {
		err = png.Encode(f, img)
	} else {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 100})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func grayImage(w, h int, v uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = v + uint8(i)
	}
	return g
}

func rgbImage(w, h int, c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

func TestLoadFolderGreyTrainTest(t *testing.T) {
	root := t.TempDir()
	// Class folders deliberately created out of order; indices must follow
	// the sorted names. A stray text file and a hidden folder are ignored.
	for _, split := range []string{"train", "test"} {
		for k, class := range []string{"zebra", "apple", "mango"} {
			for i := range 3 {
				writeImage(t, filepath.Join(root, split, class, string(rune('a'+i))+".png"), grayImage(4, 3, uint8(10*k+i)))
			}
		}
		os.WriteFile(filepath.Join(root, split, "apple", "notes.txt"), []byte("x"), 0o644)
		os.MkdirAll(filepath.Join(root, split, ".cache"), 0o755)
	}
	train, test, err := Load("folder:"+root, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Dataset{train, test} {
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.N != 9 || d.Height != 3 || d.Width != 4 || d.Channels != 1 || d.Classes != 3 {
			t.Fatalf("%s: N=%d %dx%dx%d classes=%d", d.Name, d.N, d.Height, d.Width, d.Channels, d.Classes)
		}
		if !slices.Equal(d.ClassNames, []string{"apple", "mango", "zebra"}) {
			t.Fatalf("class names %q", d.ClassNames)
		}
	}
	// Sample 0 is apple/a.png: class "apple" was written with k=1, i=0, so
	// its pixels are 10, 11, 12, ...; PNG is lossless.
	if train.Labels[0] != 0 || train.Pixels[0] != 10 || train.Pixels[11] != 21 {
		t.Fatalf("apple/a.png read as label %d pixels %v", train.Labels[0], train.Pixels[:12])
	}
	if last := train.Image(8); train.Labels[8] != 2 || last[0] != 2 {
		t.Fatalf("zebra/c.png read as label %d first pixel %d", train.Labels[8], last[0])
	}
}

func TestLoadFolderRGBHoldOutAndResize(t *testing.T) {
	root := t.TempDir()
	colours := map[string]color.NRGBA{"red": {255, 0, 0, 255}, "blue": {0, 0, 255, 255}}
	for class, c := range colours {
		for i := range 10 {
			w := 6 + i%2*2 // mixed sizes: 6x6 and 8x6
			writeImage(t, filepath.Join(root, class, string(rune('a'+i))+".jpg"), rgbImage(w, 6, c))
		}
	}
	// Mixed sizes without ImageSize is an error naming both files.
	_, _, err := LoadFolder(root, FolderOptions{})
	if err == nil || !strings.Contains(err.Error(), "set ImageSize") || !strings.Contains(err.Error(), ".jpg") {
		t.Fatalf("mixed sizes: %v", err)
	}
	train, test, err := LoadFolder(root, FolderOptions{ImageSize: 5, TestFraction: 0.3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 14 || test.N != 6 || train.Channels != 3 || train.Height != 5 || train.Width != 5 {
		t.Fatalf("train N=%d test N=%d %dx%dx%d", train.N, test.N, train.Height, train.Width, train.Channels)
	}
	if !slices.Equal(test.ClassCounts(), []int{3, 3}) {
		t.Fatalf("hold-out not stratified: %v", test.ClassCounts())
	}
	// "blue" sorts first. JPEG is lossy: allow a small error.
	for i := range train.N {
		want := [3]int{0, 0, 255}
		if train.Labels[i] == 1 {
			want = [3]int{255, 0, 0}
		}
		px := train.Image(i)
		for k := range 3 {
			if d := int(px[k]) - want[k]; d < -8 || d > 8 {
				t.Fatalf("sample %d (%s) pixel %v, want about %v", i, train.ClassNames[train.Labels[i]], px[:3], want)
			}
		}
	}
	// The same seed gives the same hold-out.
	_, test2, _ := LoadFolder(root, FolderOptions{ImageSize: 5, TestFraction: 0.3, Seed: 4})
	if !slices.Equal(test.Pixels, test2.Pixels) || !slices.Equal(test.Labels, test2.Labels) {
		t.Fatal("hold-out is not deterministic")
	}
	// Forcing one channel converts colour to luma.
	g, _, err := LoadFolder(root, FolderOptions{ImageSize: 5, Channels: 1})
	if err != nil || g.Channels != 1 {
		t.Fatalf("Channels=1: %v", err)
	}
}

func TestLoadFolderErrors(t *testing.T) {
	root := t.TempDir()
	writeImage(t, filepath.Join(root, "a", "x.png"), grayImage(2, 2, 0))
	os.MkdirAll(filepath.Join(root, "b"), 0o755)
	_, _, err := LoadFolder(root, FolderOptions{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "b")) || !strings.Contains(err.Error(), "holds no") {
		t.Fatalf("empty class folder: %v", err)
	}

	os.WriteFile(filepath.Join(root, "b", "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	_, _, err = LoadFolder(root, FolderOptions{})
	if err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Fatalf("corrupt image: %v", err)
	}

	flat := t.TempDir()
	writeImage(t, filepath.Join(flat, "x.png"), grayImage(2, 2, 0))
	if _, _, err := LoadFolder(flat, FolderOptions{}); err == nil || !strings.Contains(err.Error(), "no class subfolders") {
		t.Fatalf("no class folders: %v", err)
	}
	if _, _, err := Load("folder:"+filepath.Join(flat, "absent"), LoadOptions{}); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Fatalf("missing folder: %v", err)
	}

	mismatch := t.TempDir()
	writeImage(t, filepath.Join(mismatch, "train", "cat", "1.png"), grayImage(2, 2, 0))
	writeImage(t, filepath.Join(mismatch, "val", "dog", "1.png"), grayImage(2, 2, 0))
	if _, _, err := LoadFolder(mismatch, FolderOptions{}); err == nil || !strings.Contains(err.Error(), "class folders differ") {
		t.Fatalf("train/val class mismatch: %v", err)
	}
}

func TestResizeUint8(t *testing.T) {
	// Same hand-computed 2x2 -> 4x4 case as the float path, rounded.
	got := resizeUint8([]uint8{10, 20, 30, 40}, 2, 2, 1, 4, 4)
	want := []uint8{10, 13, 18, 20, 15, 18, 23, 25, 25, 28, 33, 35, 30, 33, 38, 40}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
