package data

import (
	"math"
	"slices"
	"testing"
)

func near(a, b float32) bool { return math.Abs(float64(a-b)) <= 1e-4*math.Max(1, math.Abs(float64(b))) }

// raw makes BatchOptions return raw pixel values: (v/255 - 0) / (1/255).
var rawOpts = BatchOptions{Mean: []float32{0}, Std: []float32{1.0 / 255}}

func TestResizeMatchesPyTorchBilinear(t *testing.T) {
	// 2x2 -> 4x4. Expected values computed by hand with PyTorch's
	// align_corners=False rule src = (dst+0.5)*in/out - 0.5 clamped at 0:
	// rows/cols map to 0, 0.25, 0.75, 1 (clamped). This is ten times the
	// example in PyTorch's nn.Upsample documentation (input [[1,2],[3,4]],
	// mode="bilinear", align_corners=False -> [[1, 1.25, 1.75, 2], ...]).
	d := &Dataset{N: 1, Height: 2, Width: 2, Channels: 1, Classes: 1, Pixels: []uint8{10, 20, 30, 40}, Labels: []int32{0}}
	o := rawOpts
	o.Resolution = 4
	got, _ := d.Batch([]int{0}, o, nil)
	want := []float32{
		10, 12.5, 17.5, 20,
		15, 17.5, 22.5, 25,
		25, 27.5, 32.5, 35,
		30, 32.5, 37.5, 40,
	}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Fatalf("upsampled 2x2 -> 4x4: got %v, want %v", got, want)
		}
	}

	// Downsampling 4x4 -> 3x3 (no antialiasing): src = (dst+0.5)*4/3 - 0.5 =
	// 1/6, 3/2, 17/6. On a ramp v(y,x) = 30x + 50y the result is the ramp
	// at those coordinates: x-part 5, 45, 85; y-part 50/6, 75, 850/6.
	ramp := make([]uint8, 16)
	for y := range 4 {
		for x := range 4 {
			ramp[y*4+x] = uint8(30*x + 50*y)
		}
	}
	d = &Dataset{N: 1, Height: 4, Width: 4, Channels: 1, Classes: 1, Pixels: ramp, Labels: []int32{0}}
	o.Resolution = 3
	got, _ = d.Batch([]int{0}, o, nil)
	xs, ys := []float32{5, 45, 85}, []float32{50.0 / 6, 75, 850.0 / 6}
	for y := range 3 {
		for x := range 3 {
			if w := xs[x] + ys[y]; !near(got[y*3+x], w) {
				t.Fatalf("downsampled at (%d,%d): %g, want %g (all: %v)", y, x, got[y*3+x], w, got)
			}
		}
	}
}

func TestBatchNormalisesPerChannelNHWC(t *testing.T) {
	// Two 1x2 RGB images.
	d := &Dataset{N: 2, Height: 1, Width: 2, Channels: 3, Classes: 3,
		Pixels: []uint8{0, 51, 255, 102, 153, 204, 255, 0, 51, 10, 20, 30}, Labels: []int32{2, 1}}
	mean := []float32{0.5, 0.25, 0}
	std := []float32{0.5, 0.25, 2}
	img, lab := d.Batch([]int{1, 0}, BatchOptions{Mean: mean, Std: std}, nil)
	if !slices.Equal(lab, []int32{1, 2}) {
		t.Fatalf("labels %v, want [1 2]", lab)
	}
	// Sample 1 comes first; element (n, y, x, c) sits at ((n*1+y)*2+x)*3+c.
	src := append(append([]uint8(nil), d.Pixels[6:]...), d.Pixels[:6]...)
	for i, v := range src {
		c := i % 3
		want := (float32(v)/255 - mean[c]) / std[c]
		if !near(img[i], want) {
			t.Fatalf("element %d: %g, want %g", i, img[i], want)
		}
	}
	// Without Mean/Std, pixels are scaled to [0, 1].
	img, _ = d.Batch([]int{0}, BatchOptions{}, img)
	if img[2] != 1 || img[0] != 0 || !near(img[1], 0.2) || len(img) != 6 {
		t.Fatalf("unnormalised: %v", img)
	}
}

func TestBatchReusesDst(t *testing.T) {
	d := synthetic(10, 2)
	buf := make([]float32, 100)
	img, _ := d.Batch([]int{1, 2, 3}, BatchOptions{}, buf)
	if &img[0] != &buf[0] || len(img) != 6 {
		t.Fatal("dst with enough capacity was not reused")
	}
}

func TestBatchOptionsCheck(t *testing.T) {
	d := synthetic(4, 2) // 2 channels
	bad := []BatchOptions{
		{Resolution: -1},
		{Mean: []float32{0}},
		{Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}},
		{Mean: []float32{0}, Std: []float32{0}},
	}
	for _, o := range bad {
		if o.Check(d) == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if err := (BatchOptions{Mean: []float32{0.5}, Std: []float32{0.2}}).Check(d); err != nil {
		t.Errorf("broadcast mean/std rejected: %v", err)
	}
}

func TestAugmentCropsAndFlips(t *testing.T) {
	// One 5x5 image whose pixel (y, x) is 10*y + x + 1 (so 0 is padding).
	px := make([]uint8, 25)
	for i := range px {
		px[i] = uint8(10*(i/5) + i%5 + 1)
	}
	d := &Dataset{N: 1, Height: 5, Width: 5, Channels: 1, Classes: 1, Pixels: px, Labels: []int32{0}}
	o := rawOpts
	o.Augment, o.CropPadding = true, 2
	seenShift := map[[2]int]bool{}
	for seed := range uint64(200) {
		o.Seed = seed
		img, _ := d.Batch([]int{0}, o, nil)
		// Recover the shift from any interior pixel and check the whole
		// image is that shift of the original with zero padding.
		dy, dx, ok := findShift(img, px, 5)
		if !ok {
			t.Fatalf("seed %d: output is not a padded shift of the input: %v", seed, img)
		}
		seenShift[[2]int{dy, dx}] = true
	}
	if len(seenShift) != 25 {
		t.Errorf("saw %d distinct crop offsets in 200 draws, want all 25 of [-2,2]^2", len(seenShift))
	}

	// With HFlip, roughly half the images are mirrored; with no crop the
	// mirror is exact.
	o.CropPadding, o.HFlip = -1, true
	flipped := 0
	for seed := range uint64(200) {
		o.Seed = seed
		img, _ := d.Batch([]int{0}, o, nil)
		if img[0] == float32(px[4]) && img[4] == float32(px[0]) {
			flipped++
		} else if img[0] != float32(px[0]) {
			t.Fatalf("seed %d: neither identity nor mirror: %v", seed, img)
		}
	}
	if flipped < 70 || flipped > 130 {
		t.Errorf("%d of 200 images flipped, want about 100", flipped)
	}
}

// findShift reports whether out[y][x] == in[y+dy][x+dx] (0 outside) for
// some |dy|,|dx| <= 2.
func findShift(out []float32, in []uint8, n int) (int, int, bool) {
	for dy := -2; dy <= 2; dy++ {
	next:
		for dx := -2; dx <= 2; dx++ {
			for y := range n {
				for x := range n {
					var want float32
					if sy, sx := y+dy, x+dx; sy >= 0 && sy < n && sx >= 0 && sx < n {
						want = float32(in[sy*n+sx])
					}
					if !near(out[y*n+x], want) {
						continue next
					}
				}
			}
			return dy, dx, true
		}
	}
	return 0, 0, false
}

func TestBatcherEpochs(t *testing.T) {
	d := synthetic(103, 5)
	b := NewBatcher(d, 10, BatchOptions{}, 7)
	if b.StepsPerEpoch() != 10 {
		t.Fatalf("steps per epoch %d, want 10", b.StepsPerEpoch())
	}
	var firstEpoch []int
	for step := range 25 {
		img, lab, epoch := b.Next()
		if len(img) != 10*2 || len(lab) != 10 {
			t.Fatalf("batch shape %d/%d", len(img), len(lab))
		}
		if want := step / 10; epoch != want {
			t.Fatalf("step %d: epoch %d, want %d", step, epoch, want)
		}
		for i := range 10 {
			id := int(math.Round(float64(img[2*i]*255))) | int(math.Round(float64(img[2*i+1]*255)))<<8
			if int(lab[i]) != id%5 {
				t.Fatalf("label %d does not belong to sample %d", lab[i], id)
			}
			if epoch == 0 {
				firstEpoch = append(firstEpoch, id)
			}
		}
	}
	// Epoch 0 draws 100 distinct samples in a shuffled order.
	sorted := slices.Clone(firstEpoch)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != 100 {
		t.Fatal("epoch 0 repeated a sample")
	}
	if slices.IsSorted(firstEpoch) {
		t.Fatal("epoch 0 was not shuffled")
	}
}

func TestBatcherIsDeterministicAndResumable(t *testing.T) {
	d := synthetic(50, 3)
	o := BatchOptions{Resolution: 3, Augment: true, CropPadding: 1}
	a := NewBatcher(d, 8, o, 99)
	var seq [][]float32
	for range 14 { // crosses into epoch 2 (6 steps per epoch)
		img, _, _ := a.Next()
		seq = append(seq, slices.Clone(img))
	}
	b := NewBatcher(d, 8, o, 99)
	b.Seek(1, 3) // step 9 overall
	for i := 9; i < 14; i++ {
		img, _, _ := b.Next()
		if !slices.Equal(img, seq[i]) {
			t.Fatalf("resumed batch %d differs", i)
		}
	}
	c := NewBatcher(d, 8, o, 100)
	img, _, _ := c.Next()
	if slices.Equal(img, seq[0]) {
		t.Fatal("different seeds gave the same first batch")
	}
	if _, err := OpenBatcher(d, 51, o, 0); err == nil {
		t.Fatal("batch larger than the dataset accepted")
	}
}

func TestBatcherDoesNotAllocate(t *testing.T) {
	d := synthetic(200, 4)
	b := NewBatcher(d, 16, BatchOptions{Resolution: 5, Augment: true, HFlip: true, Mean: []float32{0.1}, Std: []float32{0.3}}, 1)
	if n := testing.AllocsPerRun(100, func() { b.Next() }); n != 0 {
		t.Fatalf("Next allocates %.1f times per batch, want 0", n)
	}
}

func TestForEachBatchCoversAllInOrder(t *testing.T) {
	d := synthetic(23, 4)
	var seen []int32
	err := d.ForEachBatch(10, BatchOptions{}, func(img []float32, lab []int32) error {
		if len(img) != 2*len(lab) {
			t.Fatalf("%d floats for %d labels", len(img), len(lab))
		}
		seen = append(seen, lab...)
		return nil
	})
	if err != nil || !slices.Equal(seen, d.Labels) {
		t.Fatalf("err %v; labels %v, want %v", err, seen, d.Labels)
	}
}

// BenchmarkBatcherMNIST measures one training batch of 128 MNIST images at
// the native 28x28, and resized to 32x32 with augmentation.
func BenchmarkBatcherMNIST(b *testing.B) {
	train, _ := loadMNIST(b)
	for _, bc := range []struct {
		name string
		opt  BatchOptions
	}{
		{"native", BatchOptions{Mean: []float32{0.1307}, Std: []float32{0.3081}}},
		{"resize32+augment", BatchOptions{Resolution: 32, Augment: true, Mean: []float32{0.1307}, Std: []float32{0.3081}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bt := NewBatcher(train, 128, bc.opt, 1)
			b.ReportAllocs()
			for b.Loop() {
				bt.Next()
			}
		})
	}
}

func TestResizeRGBMatchesPerChannel(t *testing.T) {
	// A 3x3 RGB image resized to 5x5 must equal each channel resized alone.
	rgb := &Dataset{N: 1, Height: 3, Width: 3, Channels: 3, Classes: 1, Pixels: make([]uint8, 27), Labels: []int32{0}}
	for i := range rgb.Pixels {
		rgb.Pixels[i] = uint8(i * 37 % 251)
	}
	o := BatchOptions{Resolution: 5}
	all, _ := rgb.Batch([]int{0}, o, nil)
	for c := range 3 {
		one := &Dataset{N: 1, Height: 3, Width: 3, Channels: 1, Classes: 1, Pixels: make([]uint8, 9), Labels: []int32{0}}
		for i := range 9 {
			one.Pixels[i] = rgb.Pixels[3*i+c]
		}
		got, _ := one.Batch([]int{0}, o, nil)
		for i := range 25 {
			if all[3*i+c] != got[i] {
				t.Fatalf("channel %d pixel %d: %g in RGB, %g alone", c, i, all[3*i+c], got[i])
			}
		}
	}
}

func TestMeanStdPerChannel(t *testing.T) {
	// Channel 0 alternates 0 and 255 (mean 0.5, std 0.5); channel 1 is 51
	// everywhere (mean 0.2, std 0).
	d := &Dataset{N: 4, Height: 1, Width: 1, Channels: 2, Classes: 1,
		Pixels: []uint8{0, 51, 255, 51, 0, 51, 255, 51}, Labels: make([]int32, 4)}
	mean, std := d.MeanStd()
	if !near(mean[0], 0.5) || !near(std[0], 0.5) || !near(mean[1], 0.2) || !near(std[1], 0) {
		t.Fatalf("mean %v std %v", mean, std)
	}
}
