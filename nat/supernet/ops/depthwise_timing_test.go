package ops

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// depthwiseVariant is one formulation timed by the DepthwiseMethods benchmarks.
type depthwiseVariant struct {
	name string
	fn   func(x, k *Node, s int) *Node
}

// depthwiseVariants are the formulations the benchmarks time side by side.
var depthwiseVariants = []depthwiseVariant{{"slices", depthwiseSlices}, {"toeplitz", depthwiseToeplitz},
	{"toeplitz-train", func(x, k *Node, s int) *Node { return DepthwiseTrain(DepthwiseToeplitz, x, k, s) }},
	{"toeplitz2d", depthwiseToeplitz2D},
	{"toeplitz2d-train", func(x, k *Node, s int) *Node { return DepthwiseTrain(DepthwiseToeplitz2D, x, k, s) }}}

// depthwiseCfg is one timed layer: input [b,h,h,c], kernel k, stride s.
type depthwiseCfg struct{ b, h, c, k, s int }

// BenchmarkDepthwiseMethods times the depthwise formulations side by side (fastest of N interleaved
// runs, and the first call including graph build and compile), forward and forward+backward, on
// the layer shapes of nat-mnist subnets. It is how DepthwiseAuto's choice was made:
//
//	go test ./nat/supernet/ops -run XXX -bench DepthwiseMethods -benchtime 4x -v
//
// (-benchtime Nx sets the number of interleaved rounds.) toeplitz2d is left out where its
// constant band would be large (more than 64 input pixels).
func BenchmarkDepthwiseMethods(t *testing.B) {
	benchDepthwiseMethods(t, []depthwiseCfg{{128, 16, 16, 3, 1}, {64, 32, 24, 3, 1}, {64, 14, 96, 3, 1}, {64, 14, 96, 5, 1}, {64, 14, 96, 7, 1}, {64, 28, 48, 7, 2}, {128, 16, 64, 7, 1}})
}

// BenchmarkDepthwiseMethodsSmallMaps is BenchmarkDepthwiseMethods on the small maps of nat-mnist's
// later stages (8x8 down to 2x2 at r32, 7x7 and 5x5 and 3x3 at lower resolutions), where
// toeplitz2d competes: go test ./nat/supernet/ops -run XXX -bench DepthwiseMethodsSmallMaps -benchtime 4x -v
func BenchmarkDepthwiseMethodsSmallMaps(t *testing.B) {
	benchDepthwiseMethods(t, []depthwiseCfg{{128, 8, 144, 3, 1}, {128, 8, 144, 5, 1}, {128, 8, 144, 7, 1}, {128, 8, 144, 7, 2}, {128, 7, 144, 5, 1},
		{128, 5, 144, 3, 1}, {128, 5, 144, 7, 1}, {128, 4, 192, 3, 1}, {128, 4, 288, 5, 1}, {128, 4, 192, 7, 1}, {128, 3, 288, 5, 1}, {128, 2, 384, 7, 1}})
}

// BenchmarkDepthwiseMethodsMediumMaps is BenchmarkDepthwiseMethods on nat-mnist's first-stage maps
// at r20 to r28 (10x10 to 14x14) with k5 and k7, where H*W/(k*k) is 2 to 4 but toeplitz2d's band
// is large: go test ./nat/supernet/ops -run XXX -bench DepthwiseMethodsMediumMaps -benchtime 3x -v
func BenchmarkDepthwiseMethodsMediumMaps(t *testing.B) {
	benchDepthwiseMethods(t, []depthwiseCfg{{128, 10, 64, 5, 1}, {128, 10, 64, 7, 1}, {128, 12, 64, 7, 1}, {128, 14, 64, 7, 1}, {128, 12, 64, 5, 1}})
}

func benchDepthwiseMethods(t *testing.B, cfgs []depthwiseCfg) {
	be := backend(t)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, cfg := range cfgs {
		vs := depthwiseVariants
		if cfg.h*cfg.h > 196 {
			vs = vs[:3]
		}
		x := tensors.FromShape(shapes.Make(dtypes.Float32, cfg.b, cfg.h, cfg.h, cfg.c))
		tensors.MustMutableFlatData[float32](x, func(f []float32) {
			for i := range f {
				f[i] = float32(rng.NormFloat64())
			}
		})
		k := tensors.FromShape(shapes.Make(dtypes.Float32, cfg.k, cfg.k, cfg.c))
		for _, grad := range []bool{false, true} {
			type res struct {
				compile time.Duration
				best    time.Duration
			}
			out := make([]res, len(vs))
			execs := make([]*Exec, len(vs))
			for i, v := range vs {
				v := v
				t0 := time.Now()
				e, err := NewExec(be, func(x, k *Node) []*Node {
					y := v.fn(x, k, cfg.s)
					if !grad {
						return []*Node{y}
					}
					return Gradient(ReduceAllSum(Square(y)), x, k)
				})
				if err != nil {
					t.Fatal(err)
				}
				o, err := e.Exec(x, k)
				if err != nil {
					t.Fatal(err)
				}
				for _, oo := range o {
					oo.FinalizeAll()
				}
				out[i].compile = time.Since(t0)
				out[i].best = time.Hour
				execs[i] = e
			}
			for round := 0; round < t.N; round++ {
				for i := range vs {
					t0 := time.Now()
					o, _ := execs[i].Exec(x, k)
					d := time.Since(t0)
					for _, oo := range o {
						oo.FinalizeAll()
					}
					if d < out[i].best {
						out[i].best = d
					}
				}
			}
			line := ""
			for i, v := range vs {
				line += v.name + " " + out[i].best.Round(time.Millisecond/10).String() + " (first " + out[i].compile.Round(time.Millisecond).String() + ")  "
				execs[i].Finalize()
			}
			t.Logf("[%d,%d,%d,%d] k%d s%d grad=%v: %s", cfg.b, cfg.h, cfg.h, cfg.c, cfg.k, cfg.s, grad, line)
		}
	}
}
