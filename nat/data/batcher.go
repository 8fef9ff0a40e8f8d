package data

import (
	"fmt"
	"math/rand/v2"
)

// Batcher yields fixed-size shuffled training batches forever, epoch after
// epoch, reusing its buffers so that Next allocates nothing.
//
// Every batch has exactly batchSize samples (a fixed shape, so a compiled
// graph is never recompiled): as with PyTorch's drop_last=True, the
// N mod batchSize samples left at the end of an epoch's permutation are
// skipped that epoch; they are drawn again in later epochs' shuffles.
//
// The permutation of epoch e and the augmentation of step s are pure
// functions of (seed, e, s), so a run resumed with [Batcher.Seek] sees
// exactly the batches it would have seen. A Batcher is not safe for
// concurrent use.
type Batcher struct {
	d      *Dataset
	size   int
	plan   *plan
	seed   uint64
	perm   []int
	images []float32
	labels []int32
	epoch  int // epoch of the next batch
	step   int // step within that epoch
	steps  int // batches per epoch
	shuf   rand.PCG
	aug    rand.PCG
	augOn  bool
}

// NewBatcher returns a Batcher over d. It panics if batchSize is not in
// [1, d.N] or opt is invalid for d (programming errors); use [OpenBatcher]
// to get an error instead.
func NewBatcher(d *Dataset, batchSize int, opt BatchOptions, seed uint64) *Batcher {
	b, err := OpenBatcher(d, batchSize, opt, seed)
	if err != nil {
		panic(err)
	}
	return b
}

// OpenBatcher is [NewBatcher] returning an error for invalid arguments.
func OpenBatcher(d *Dataset, batchSize int, opt BatchOptions, seed uint64) (*Batcher, error) {
	p, err := newPlan(d, opt)
	if err != nil {
		return nil, err
	}
	if batchSize <= 0 || batchSize > d.N {
		return nil, fmt.Errorf("dataset %q: batch size %d must be in [1, %d]", d.Name, batchSize, d.N)
	}
	b := &Batcher{
		d: d, size: batchSize, plan: p, seed: seed,
		perm:   make([]int, d.N),
		images: make([]float32, batchSize*p.outH*p.outW*p.c),
		labels: make([]int32, batchSize),
		steps:  d.N / batchSize,
		augOn:  opt.Augment,
	}
	b.Seek(0, 0)
	return b, nil
}

// StepsPerEpoch returns the number of batches in one epoch (N / batchSize).
func (b *Batcher) StepsPerEpoch() int { return b.steps }

// Shape returns the shape of the images Next returns: batch, height, width,
// channels.
func (b *Batcher) Shape() (n, h, w, c int) { return b.size, b.plan.outH, b.plan.outW, b.plan.c }

// Position returns the epoch and step of the batch the next call to Next
// will return.
func (b *Batcher) Position() (epoch, step int) { return b.epoch, b.step }

// Seek positions the Batcher so that the next batch is step `step` of epoch
// `epoch` (both from zero), e.g. to resume an interrupted run. Steps past
// the end of an epoch carry into the following epochs. Negative arguments
// panic (a programming error).
func (b *Batcher) Seek(epoch, step int) {
	if epoch < 0 || step < 0 {
		panic(fmt.Sprintf("data: Batcher.Seek(%d, %d): negative position", epoch, step))
	}
	epoch += step / b.steps
	step %= b.steps
	b.epoch, b.step = epoch, step
	b.shufflePerm()
}

// shufflePerm sets perm to the permutation of the current epoch.
func (b *Batcher) shufflePerm() {
	for i := range b.perm {
		b.perm[i] = i
	}
	b.shuf.Seed(b.seed^streamShuffle, uint64(b.epoch))
	shuffleInts(&b.shuf, b.perm)
}

// Next returns the next batch: images (batchSize x H x W x C float32,
// NHWC), labels, and the epoch the batch belongs to (from 0). The slices are
// overwritten by the next call.
func (b *Batcher) Next() (images []float32, labels []int32, epoch int) {
	if b.step == b.steps {
		b.epoch++
		b.step = 0
		b.shufflePerm()
	}
	start := b.step * b.size
	var rng *rand.PCG
	if b.augOn {
		b.aug.Seed(b.seed^streamAugment, uint64(b.epoch)<<32|uint64(b.step))
		rng = &b.aug
	}
	images, labels = b.plan.batch(b.d, b.perm[start:start+b.size], b.images, b.labels, rng)
	epoch = b.epoch
	b.step++
	return images, labels, epoch
}
