//go:build example

// A scripted objective: a toy energy model (multiply-adds weighted by resolution, plus a cost
// per layer), evaluated with the built-in costs on a few sampled subnets.
//
//	nat run dsl/examples/energy/main.go
//	go run -tags example ./dsl/examples/energy
package main

import (
	"fmt"

	. "github.com/natgo/nat/dsl"
)

// energyMJ is a made-up energy model in millijoules: 1 nJ per multiply-add at 28x28, scaled by
// the input area, plus 0.05 mJ per active layer for its memory traffic.
func energyMJ(space *Space) func(Arch) float64 {
	return func(a Arch) float64 {
		madds := float64(space.Costs(a).MAdds)
		layers := 0
		for _, d := range a.Depths {
			layers += d
		}
		area := float64(a.Resolution*a.Resolution) / (28 * 28)
		return madds*1e-6*area + 0.05*float64(layers)
	}
}

func main() {
	space := MNISTSpace()
	energy := Custom("energy", energyMJ(space))
	exp := Experiment{
		Name:       "energy",
		Space:      space,
		Objectives: Objectives(Minimize(energy), Minimize(Params())),
	}
	var archs []Arch
	for seed := uint64(1); seed <= 6; seed++ {
		archs = append(archs, space.Sample(seed))
	}
	res, err := Evaluate(exp, archs...)
	if err != nil {
		fmt.Println("evaluate:", err)
		return
	}
	fmt.Print(res.Table())
	fmt.Printf("front: %d of %d subnets\n", len(res.Front()), len(res.Points))
	best, err := res.Best(Minimize(energy), AtMost(Params(), 0.5e6))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("lowest energy under 0.5M params: %.3f mJ  %v\n", best.Values["energy"], best.Arch)
}
