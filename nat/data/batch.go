package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// BatchOptions says how images become float32 inputs. The zero value gives
// images at their native size scaled to [0, 1], without augmentation.
type BatchOptions struct {
	// Resolution, when positive, resizes every image to Resolution x
	// Resolution by bilinear interpolation (see Resize for the exact
	// convention). Zero keeps the dataset's Height x Width.
	Resolution int

	// Mean and Std normalise each channel: x = (pixel/255 - Mean[c]) / Std[c].
	// Each has length 1 (used for every channel) or Channels. Nil means no
	// normalisation (x = pixel/255). Use [Dataset.MeanStd] on the training
	// split to compute them, or give published values.
	Mean, Std []float32

	// Augment turns on light training-time augmentation: a random crop with
	// zero padding (like torchvision's RandomCrop(size, padding)), applied
	// after resizing, plus a horizontal flip when HFlip is set.
	Augment bool
	// CropPadding is the padding of the random crop in pixels of the output
	// resolution. Zero means round(resolution/8) (4 at 28 or 32); a negative
	// value disables the crop.
	CropPadding int
	// HFlip flips half of the images left-right when Augment is set. Off by
	// default because it is wrong for digits (and text); turn it on for
	// natural images.
	HFlip bool

	// Seed drives augmentation in [Dataset.Batch] and [Dataset.ForEachBatch].
	// A Batcher ignores it and uses its own seed.
	Seed uint64
}

// outSize returns the output height and width for d.
func (o BatchOptions) outSize(d *Dataset) (h, w int) {
	if o.Resolution > 0 {
		return o.Resolution, o.Resolution
	}
	return d.Height, d.Width
}

// Check reports whether the options can be used with d.
func (o BatchOptions) Check(d *Dataset) error {
	if err := d.validateShape(); err != nil {
		return err
	}
	if o.Resolution < 0 {
		return fmt.Errorf("batch options: negative resolution %d", o.Resolution)
	}
	if (o.Mean == nil) != (o.Std == nil) {
		return errors.New("batch options: Mean and Std must be given together")
	}
	for i, v := range [][]float32{o.Mean, o.Std} {
		if v != nil && len(v) != 1 && len(v) != d.Channels {
			return fmt.Errorf("batch options: %s has %d values; want 1 or %d (the channels of %q)",
				[]string{"Mean", "Std"}[i], len(v), d.Channels, d.Name)
		}
	}
	for c, s := range o.Std {
		if !(s > 0) {
			return fmt.Errorf("batch options: Std[%d] = %g must be positive", c, s)
		}
	}
	return nil
}

// plan holds everything about turning one image into floats that does not
// change between batches, so that batching allocates nothing.
type plan struct {
	inH, inW, c int
	outH, outW  int
	// lut[c*256+v] is the normalised value of pixel value v in channel c.
	lut []float32
	// ys and xs are the bilinear taps for each output row and column; nil
	// when that axis is not resized.
	ys, xs []tap
	pad    int // crop padding; 0 = no crop
	flip   bool
	// Scratch buffers, so a plan is not safe for concurrent use: hbuf holds
	// the horizontally resized input rows (inH x outW x c), rbuf the resized
	// image before crop and flip (outH x outW x c).
	hbuf, rbuf []float32
}

// tap is one output coordinate's two source coordinates and the weight of
// the second.
type tap struct {
	i0, i1 int32
	w1     float32
}

func newPlan(d *Dataset, o BatchOptions) (*plan, error) {
	if err := o.Check(d); err != nil {
		return nil, err
	}
	p := &plan{inH: d.Height, inW: d.Width, c: d.Channels}
	p.outH, p.outW = o.outSize(d)
	p.lut = make([]float32, p.c*256)
	for c := range p.c {
		mean, std := float32(0), float32(1)
		if o.Mean != nil {
			mean, std = o.Mean[min(c, len(o.Mean)-1)], o.Std[min(c, len(o.Std)-1)]
		}
		for v := range 256 {
			p.lut[c*256+v] = (float32(v)/255 - mean) / std
		}
	}
	if p.outH != p.inH || p.outW != p.inW {
		p.ys, p.xs = bilinearTaps(p.inH, p.outH), bilinearTaps(p.inW, p.outW)
		p.hbuf = make([]float32, p.inH*p.outW*p.c)
	}
	if o.Augment {
		p.pad = o.CropPadding
		if p.pad == 0 {
			p.pad = (max(p.outH, p.outW) + 4) / 8
		}
		p.pad = max(p.pad, 0)
		p.flip = o.HFlip
		if p.pad > 0 || p.flip {
			p.rbuf = make([]float32, p.outH*p.outW*p.c)
		}
	}
	return p, nil
}

// bilinearTaps computes, for each of out output positions, the two input
// positions and the interpolation weight, with the convention of PyTorch's
// F.interpolate(mode="bilinear", align_corners=False, antialias=False):
// source = (dst + 0.5) * in/out - 0.5, clamped below at 0; the upper
// neighbour is clamped to the last pixel. Downsampling therefore does not
// average over the whole footprint (no antialiasing), exactly like PyTorch.
// Coordinates are computed in float64 and weights stored as float32, so
// results agree with PyTorch's float32 kernel to float32 rounding.
//
// Written by hand because golang.org/x/image/draw's BiLinear uses a
// different (antialiased, image.Image based) kernel and would not let us
// produce normalised float32 NHWC directly.
func bilinearTaps(in, out int) []tap {
	t := make([]tap, out)
	scale := float64(in) / float64(out)
	for o := range t {
		src := (float64(o)+0.5)*scale - 0.5
		if src < 0 {
			src = 0
		}
		i0 := min(int(src), in-1)
		i1 := i0
		if i0 < in-1 {
			i1 = i0 + 1
		}
		t[o] = tap{int32(i0), int32(i1), float32(src - float64(i0))}
	}
	return t
}

// fill writes the image img (inH x inW x c bytes) into out (outH x outW x c
// floats), resizing, normalising and, when rng is non-nil and the plan
// augments, cropping and flipping.
//
// Resizing is separable: each input row is interpolated horizontally once
// (into p.hbuf), then output rows blend two of those rows. The arithmetic is
// the same as the textbook per-pixel form, a + w*(b-a) along x then along y.
func (p *plan) fill(img []uint8, out []float32, rng *rand.PCG) {
	dy, dx, flip := 0, 0, false
	if p.pad > 0 && rng != nil {
		span := uint64(2*p.pad + 1)
		dy = int(uniform(rng, span)) - p.pad
		dx = int(uniform(rng, span)) - p.pad
	}
	if p.flip && rng != nil {
		flip = rng.Uint64()&1 == 1
	}
	geometry := dy != 0 || dx != 0 || flip
	// full is the resized, normalised image before crop and flip.
	full := out
	if geometry {
		full = p.rbuf
	}
	if p.ys == nil {
		p.normalise(img, full)
	} else {
		p.resize(img, full)
	}
	if geometry {
		p.cropFlip(full, out, dy, dx, flip)
	}
}

// normalise maps bytes to floats through the lookup table.
func (p *plan) normalise(img []uint8, out []float32) {
	out = out[:len(img)]
	if p.c == 1 {
		lut := p.lut[:256]
		for i, v := range img {
			out[i] = lut[v]
		}
		return
	}
	for i, v := range img {
		out[i] = p.lut[(i%p.c)*256+int(v)]
	}
}

// resize writes the bilinear resize of img into out (outH x outW x c).
func (p *plan) resize(img []uint8, out []float32) {
	c := p.c
	inRow, outRow := p.inW*c, p.outW*c
	for r := range p.inH {
		src := img[r*inRow : (r+1)*inRow]
		dst := p.hbuf[r*outRow : (r+1)*outRow]
		if c == 1 { // the common grey case, without the channel loop
			lut := p.lut[:256]
			dst = dst[:len(p.xs)]
			for x, tx := range p.xs {
				a, b := lut[src[tx.i0]], lut[src[tx.i1]]
				dst[x] = a + tx.w1*(b-a)
			}
			continue
		}
		for x, tx := range p.xs {
			a0, b0 := int(tx.i0)*c, int(tx.i1)*c
			for k := range c {
				lut := p.lut[k*256 : k*256+256]
				a, b := lut[src[a0+k]], lut[src[b0+k]]
				dst[x*c+k] = a + tx.w1*(b-a)
			}
		}
	}
	for y, ty := range p.ys {
		top := p.hbuf[int(ty.i0)*outRow : int(ty.i0+1)*outRow]
		bot := p.hbuf[int(ty.i1)*outRow : int(ty.i1+1)*outRow]
		dst := out[y*outRow : (y+1)*outRow]
		w := ty.w1
		for i := range dst {
			dst[i] = top[i] + w*(bot[i]-top[i])
		}
	}
}

// cropFlip writes into out the image full shifted by (dy, dx), padded with
// black, and mirrored left-right when flip is set: out(y, x) =
// full(y+dy, x'+dx) with x' = x, or W-1-x when flipped.
func (p *plan) cropFlip(full, out []float32, dy, dx int, flip bool) {
	c, w := p.c, p.outW
	row := w * c
	for y := range p.outH {
		dst := out[y*row : (y+1)*row]
		ry := y + dy
		if ry < 0 || ry >= p.outH {
			p.fillZero(dst)
			continue
		}
		src := full[ry*row : (ry+1)*row]
		if !flip {
			// Columns x with 0 <= x+dx < w come from src; the rest is padding.
			x0, x1 := max(0, -dx), min(w, w-dx)
			p.fillZero(dst[:x0*c])
			copy(dst[x0*c:x1*c], src[(x0+dx)*c:(x1+dx)*c])
			p.fillZero(dst[x1*c:])
			continue
		}
		for x := range w {
			rx := w - 1 - x + dx
			if rx < 0 || rx >= w {
				p.fillZero(dst[x*c : (x+1)*c])
				continue
			}
			copy(dst[x*c:(x+1)*c], src[rx*c:(rx+1)*c])
		}
	}
}

// fillZero writes the value of a black (zero) pixel, the crop's padding.
func (p *plan) fillZero(px []float32) {
	for i := range px {
		px[i] = p.lut[(i%p.c)*256]
	}
}

// batch writes the samples idx into dst (grown if too small) and labels.
func (p *plan) batch(d *Dataset, idx []int, dst []float32, labels []int32, rng *rand.PCG) ([]float32, []int32) {
	per := p.outH * p.outW * p.c
	need := len(idx) * per
	if cap(dst) < need {
		dst = make([]float32, need)
	}
	dst = dst[:need]
	if cap(labels) < len(idx) {
		labels = make([]int32, len(idx))
	}
	labels = labels[:len(idx)]
	for j, i := range idx {
		p.fill(d.Image(i), dst[j*per:(j+1)*per], rng)
		labels[j] = d.Labels[i]
	}
	return dst, labels
}

// Batch returns the samples idx as float32 NHWC images (len(idx) x H x W x
// C, H and W given by opt.Resolution) and their labels. dst is reused when
// its capacity suffices, so a caller can pass the previous batch back in.
// The labels slice is new on every call; use a [Batcher] for allocation-free
// training loops.
//
// Batch panics if opt is invalid for d (check with [BatchOptions.Check]) or
// an index is out of range: both are programming errors.
func (d *Dataset) Batch(idx []int, opt BatchOptions, dst []float32) (images []float32, labels []int32) {
	p, err := newPlan(d, opt)
	if err != nil {
		panic(err)
	}
	var rng *rand.PCG
	if opt.Augment {
		rng = newRNG(opt.Seed, streamAugment)
	}
	return p.batch(d, idx, dst, nil, rng)
}

// ForEachBatch calls fn with consecutive batches of d in order (the last one
// may be smaller), for evaluation. The slices passed to fn are reused by the
// next call. It stops at fn's first error and returns it.
func (d *Dataset) ForEachBatch(batchSize int, opt BatchOptions, fn func(images []float32, labels []int32) error) error {
	if batchSize <= 0 {
		return fmt.Errorf("dataset %q: batch size %d must be positive", d.Name, batchSize)
	}
	p, err := newPlan(d, opt)
	if err != nil {
		return err
	}
	var rng *rand.PCG
	if opt.Augment {
		rng = newRNG(opt.Seed, streamAugment)
	}
	idx := make([]int, 0, batchSize)
	var images []float32
	var labels []int32
	for start := 0; start < d.N; start += batchSize {
		idx = idx[:0]
		for i := start; i < min(start+batchSize, d.N); i++ {
			idx = append(idx, i)
		}
		images, labels = p.batch(d, idx, images, labels, rng)
		if err := fn(images, labels); err != nil {
			return err
		}
	}
	return nil
}
