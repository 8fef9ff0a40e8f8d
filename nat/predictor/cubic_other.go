//go:build !amd64

package predictor

const (
	useAVX2   = false
	useAVX512 = false
)

func cubicLanesAVX2(lam *float64, n int, rows *[]float64, nrows int, lanes *[4]float64) {
	panic("predictor: cubicLanesAVX2 needs amd64")
}

func cubicLanesAVX512(lam *float64, n int, rows *[]float64, nrows int, lanes *[8]float64) {
	panic("predictor: cubicLanesAVX512 needs amd64")
}

func dot4AVX512(v *float64, rows *float64, stride int, n int, out *[4]float64) {
	panic("predictor: dot4AVX512 needs amd64")
}

func dot4x2AVX512(v0, v1 *float64, rows *float64, stride int, n int, out *[8]float64) {
	panic("predictor: dot4x2AVX512 needs amd64")
}
