package supernet

import (
	"math"
	"strings"
)

func hasSuffix(s, suf string) bool { return strings.HasSuffix(s, suf) }
func contains(s, sub string) bool  { return strings.Contains(s, sub) }
func sqrt(x float64) float64       { return math.Sqrt(x) }
