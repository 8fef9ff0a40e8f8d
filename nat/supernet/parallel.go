package supernet

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Concurrent executions.
//
// The Go backend runs one executable's operations one after another (DefaultBackendConfig is
// ops_sequential: its parallel executor deadlocks on some graphs) and parallelises only inside
// matrix products, so one execution keeps about 1.2-1.3 of this machine's 2 cores busy. The
// backend runs several executions at once (each takes its own buffers; parameter tensors are
// read-only inputs), so the supernet keeps the cores busy by running independent batches
// concurrently: evaluation and recalibration batches as they are (bit-identical results for any
// number of workers), and training steps split into parts (data parallel, see
// TrainOptions.Workers). Results never depend on timing: every job writes its own slot and the
// slots are combined in index order afterwards.

// DefaultEvalWorkers is how many evaluation or recalibration batches run at once when
// EvalOptions.Workers is zero: the number of usable cores, at most 4 (each concurrent batch holds
// its own activations, so memory grows with it).
func DefaultEvalWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// DefaultTrainWorkers is TrainOptions.Workers' default: each subnet's batch is split into 2
// parts trained concurrently. It is a constant rather than the machine's core count because the
// parts change the batch-norm statistics (one set per part), so the trained weights depend on it.
const DefaultTrainWorkers = 2

// minPartImages is the smallest training part: a step splits its batch into at most
// BatchSize/minPartImages parts, so that batch-norm statistics come from enough images.
const minPartImages = 16

// forEach calls job(w, i) for i in [0, n) on at most workers goroutines (workers <= 1 runs them
// in order on the calling goroutine), w in [0, workers) naming the goroutine (for its own
// buffers), and returns the error of the lowest-numbered failing job, or
// ctx's error once cancelled (jobs not yet started are then skipped). Jobs must write only their
// own results.
func forEach(ctx context.Context, n, workers int, job func(w, i int) error) error {
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := job(0, i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[i] = err
					return
				}
				errs[i] = job(w, i)
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// trainParts is how many parts a training batch of b images is split into for workers.
func trainParts(b, workers int) int {
	return max(1, min(workers, b/minPartImages))
}

// partBounds returns the first image of each of parts near-equal contiguous parts of b images
// and b itself (parts+1 values): the first b%parts parts take one image more.
func partBounds(b, parts int) []int {
	out := make([]int, parts+1)
	for k := 0; k < parts; k++ {
		size := b / parts
		if k < b%parts {
			size++
		}
		out[k+1] = out[k] + size
	}
	return out
}
