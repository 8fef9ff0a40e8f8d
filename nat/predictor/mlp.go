package predictor

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// MLPOptions configure an MLP. Zero values take the documented defaults.
type MLPOptions struct {
	// Hidden are the widths of the ReLU hidden layers; default {64, 64, 64}. NAT's MLP has
	// three layers of 300-400 units trained ~2,000 epochs (PaperMLP); on a few hundred samples
	// that costs ~50x more per fit, so the default is smaller.
	Hidden []int
	// Epochs of full-batch Adam; default 500.
	Epochs int
	// LearningRate for Adam; default 2e-3 (NAT: 8e-4 over 2,000 epochs).
	LearningRate float64
	// Dropout on hidden activations during training; default 0.2 (NAT's). Negative means none.
	Dropout float64
	// WeightDecay is an L2 penalty added to the gradient; default 0.
	WeightDecay float64
	// Seed drives initialisation and dropout.
	Seed uint64
}

// PaperMLP returns NAT/MSuNAS's MLP settings: 3 x 400 ReLU, dropout 0.2, Adam lr 8e-4, 2,000
// full-batch epochs with a smooth-L1 loss.
func PaperMLP(seed uint64) MLPOptions {
	return MLPOptions{Hidden: []int{400, 400, 400}, Epochs: 2000, LearningRate: 8e-4, Dropout: 0.2, Seed: seed}
}

// MLP is a multi-layer perceptron regressor: ReLU hidden layers, a linear output, smooth-L1
// (Huber, delta 1) loss on standardised targets, full-batch Adam (Kingma & Ba 2015), He
// initialisation, inverted dropout.
//
// It is written in plain Go over gonum's BLAS rather than GoMLX: the whole network is a few
// GEMMs of a few hundred rows, where GoMLX's graph building and pure-Go backend's per-op
// dispatch would cost more than the arithmetic, and a predictor refitted every NAT iteration
// (11 times with adaptive switching) should not depend on the supernet's backend configuration.
type MLP struct {
	opts        MLPOptions
	m           int
	sizes       []int       // m, hidden..., 1
	w, b        [][]float64 // w[l] is sizes[l] x sizes[l+1], row-major
	xMean, xStd []float64
	yMean, yStd float64
	finalLoss   float64
}

// NewMLP validates opts and returns an unfitted MLP.
func NewMLP(opts MLPOptions) (*MLP, error) {
	if opts.Hidden == nil {
		opts.Hidden = []int{64, 64, 64}
	}
	if opts.Epochs == 0 {
		opts.Epochs = 500
	}
	if opts.LearningRate == 0 {
		opts.LearningRate = 2e-3
	}
	if opts.Dropout == 0 {
		opts.Dropout = 0.2
	}
	if opts.Dropout < 0 {
		opts.Dropout = 0
	}
	for _, h := range opts.Hidden {
		if h < 1 {
			return nil, fmt.Errorf("mlp: hidden widths must be positive, got %v", opts.Hidden)
		}
	}
	if opts.Epochs < 1 || !(opts.LearningRate > 0) || opts.Dropout >= 1 || opts.WeightDecay < 0 {
		return nil, fmt.Errorf("mlp: need Epochs >= 1, LearningRate > 0, Dropout < 1, WeightDecay >= 0; got %d, %g, %g, %g",
			opts.Epochs, opts.LearningRate, opts.Dropout, opts.WeightDecay)
	}
	return &MLP{opts: opts}, nil
}

// Name implements Predictor.
func (p *MLP) Name() string { return "mlp" }

// Describe implements Predictor: architecture, training settings and final loss.
func (p *MLP) Describe() string {
	if p.m == 0 {
		return fmt.Sprintf("MLP %v ReLU, Adam, %d epochs (unfitted)", p.opts.Hidden, p.opts.Epochs)
	}
	return fmt.Sprintf("MLP %d-%v-1 ReLU, dropout %.2g, Adam lr %.2g, %d full-batch epochs; final smooth-L1 loss %.4g (standardised)",
		p.m, p.opts.Hidden, p.opts.Dropout, p.opts.LearningRate, p.opts.Epochs, p.finalLoss)
}

// Fit trains the network from a fresh initialisation.
// MinSamples is the fewest training samples Fit accepts (whatever the number of features).
func (p *MLP) MinSamples(features int) int { return 2 }

func (p *MLP) Fit(X [][]float64, y []float64) error {
	m, err := checkFit("mlp", X, y, p.MinSamples(0))
	if err != nil {
		return err
	}
	n := len(X)
	p.m = 0
	x := flatten(X)
	p.xMean, p.xStd = make([]float64, m), make([]float64, m)
	for j := 0; j < m; j++ {
		mu, sd := meanStd(x, n, m, j)
		if sd == 0 {
			sd = 1
		}
		p.xMean[j], p.xStd[j] = mu, sd
		for i := 0; i < n; i++ {
			x[i*m+j] = (x[i*m+j] - mu) / sd
		}
	}
	p.yMean, p.yStd = meanStd(y, n, 1, 0)
	ys := make([]float64, n)
	for i := range ys {
		ys[i] = (y[i] - p.yMean) / p.yStd
	}
	p.sizes = append(append([]int{m}, p.opts.Hidden...), 1)
	L := len(p.sizes) - 1
	rng := rand.New(rand.NewPCG(p.opts.Seed, 0x6d6c70))
	p.w, p.b = make([][]float64, L), make([][]float64, L)
	mw, vw := make([][]float64, L), make([][]float64, L)
	mb, vb := make([][]float64, L), make([][]float64, L)
	gw, gb := make([][]float64, L), make([][]float64, L)
	acts := make([][]float64, L+1) // acts[0] = input, acts[l] = post-ReLU (and dropout) of layer l
	acts[0] = x
	masks := make([][]float64, L)
	deltas := make([][]float64, L+1)
	for l := 0; l < L; l++ {
		in, out := p.sizes[l], p.sizes[l+1]
		p.w[l] = make([]float64, in*out)
		scale := math.Sqrt(2 / float64(in)) // He initialisation for ReLU
		for i := range p.w[l] {
			p.w[l][i] = rng.NormFloat64() * scale
		}
		p.b[l] = make([]float64, out)
		mw[l], vw[l], gw[l] = make([]float64, in*out), make([]float64, in*out), make([]float64, in*out)
		mb[l], vb[l], gb[l] = make([]float64, out), make([]float64, out), make([]float64, out)
		acts[l+1] = make([]float64, n*out)
		masks[l] = make([]float64, n*out)
		deltas[l+1] = make([]float64, n*out)
	}
	lr := p.opts.LearningRate
	keep := 1 - p.opts.Dropout
	for epoch := 1; epoch <= p.opts.Epochs; epoch++ {
		// Forward.
		for l := 0; l < L; l++ {
			in, out := p.sizes[l], p.sizes[l+1]
			z := acts[l+1]
			for i := 0; i < n; i++ {
				copy(z[i*out:(i+1)*out], p.b[l])
			}
			blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
				blas64.General{Rows: n, Cols: in, Stride: in, Data: acts[l]},
				blas64.General{Rows: in, Cols: out, Stride: out, Data: p.w[l]},
				1, blas64.General{Rows: n, Cols: out, Stride: out, Data: z})
			if l == L-1 {
				break
			}
			mask := masks[l]
			for i, v := range z {
				mk := 0.0
				if v > 0 {
					mk = 1
					if keep < 1 {
						if rng.Float64() < keep {
							mk = 1 / keep
						} else {
							mk = 0
						}
					}
				}
				mask[i] = mk
				z[i] = v * mk
			}
		}
		// Smooth-L1 loss gradient (mean over samples).
		outv := acts[L]
		d := deltas[L]
		loss := 0.0
		for i := 0; i < n; i++ {
			r := outv[i] - ys[i]
			if math.Abs(r) < 1 {
				loss += 0.5 * r * r
				d[i] = r / float64(n)
			} else {
				loss += math.Abs(r) - 0.5
				d[i] = math.Copysign(1, r) / float64(n)
			}
		}
		p.finalLoss = loss / float64(n)
		// Backward.
		for l := L - 1; l >= 0; l-- {
			in, out := p.sizes[l], p.sizes[l+1]
			blas64.Gemm(blas.Trans, blas.NoTrans, 1,
				blas64.General{Rows: n, Cols: in, Stride: in, Data: acts[l]},
				blas64.General{Rows: n, Cols: out, Stride: out, Data: deltas[l+1]},
				0, blas64.General{Rows: in, Cols: out, Stride: out, Data: gw[l]})
			clear(gb[l])
			for i := 0; i < n; i++ {
				for j := 0; j < out; j++ {
					gb[l][j] += deltas[l+1][i*out+j]
				}
			}
			if l > 0 {
				if deltas[l] == nil {
					deltas[l] = make([]float64, n*in)
				}
				blas64.Gemm(blas.NoTrans, blas.Trans, 1,
					blas64.General{Rows: n, Cols: out, Stride: out, Data: deltas[l+1]},
					blas64.General{Rows: in, Cols: out, Stride: out, Data: p.w[l]},
					0, blas64.General{Rows: n, Cols: in, Stride: in, Data: deltas[l]})
				for i, mk := range masks[l-1] {
					deltas[l][i] *= mk
				}
			}
		}
		// Adam.
		c1 := 1 - math.Pow(beta1, float64(epoch))
		c2 := 1 - math.Pow(beta2, float64(epoch))
		for l := 0; l < L; l++ {
			adam(p.w[l], gw[l], mw[l], vw[l], lr, c1, c2, p.opts.WeightDecay)
			adam(p.b[l], gb[l], mb[l], vb[l], lr, c1, c2, 0)
		}
	}
	if !finite(p.finalLoss) {
		return fmt.Errorf("mlp: fit: training diverged (loss %v); lower LearningRate", p.finalLoss)
	}
	p.m = m
	return nil
}

// Adam's moment decay rates and denominator guard (Kingma & Ba's defaults).
const beta1, beta2, adamEps = 0.9, 0.999, 1e-8

func adam(w, g, m, v []float64, lr, c1, c2, decay float64) {
	for i := range w {
		gi := g[i] + decay*w[i]
		m[i] = beta1*m[i] + (1-beta1)*gi
		v[i] = beta2*v[i] + (1-beta2)*gi*gi
		w[i] -= lr * (m[i] / c1) / (math.Sqrt(v[i]/c2) + adamEps)
	}
}

// Predict runs the trained network (no dropout) on every row.
func (p *MLP) Predict(X [][]float64) ([]float64, error) {
	if err := checkPredict("mlp", X, p.m); err != nil {
		return nil, err
	}
	n, m := len(X), p.m
	a := flatten(X)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			a[i*m+j] = (a[i*m+j] - p.xMean[j]) / p.xStd[j]
		}
	}
	L := len(p.sizes) - 1
	for l := 0; l < L; l++ {
		in, out := p.sizes[l], p.sizes[l+1]
		z := make([]float64, n*out)
		for i := 0; i < n; i++ {
			copy(z[i*out:(i+1)*out], p.b[l])
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas64.General{Rows: n, Cols: in, Stride: in, Data: a},
			blas64.General{Rows: in, Cols: out, Stride: out, Data: p.w[l]},
			1, blas64.General{Rows: n, Cols: out, Stride: out, Data: z})
		if l < L-1 {
			for i, v := range z {
				z[i] = max(v, 0)
			}
		}
		a = z
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = p.yMean + p.yStd*a[i]
	}
	return out, checkOutput("mlp", out)
}
