//go:build example

// Quickstart: describe a NAT transfer to MNIST, look at the space and two subnets, then run it.
//
//	nat run dsl/examples/quickstart/main.go
//	go run -tags example ./dsl/examples/quickstart
package main

import (
	"fmt"

	. "github.com/natgo/nat/dsl"
)

func main() {
	space := MNISTSpace()
	fmt.Println(space)

	exp := Experiment{
		Name:        "mnist-quickstart",
		Space:       space,
		Data:        Dataset("mnist").Limit(2000, 500),
		Objectives:  Objectives(Maximize(Top1()), Minimize(MAdds())),
		Constraints: Constraints(AtMost(MAdds(), 15e6)),
		Search:      SearchSettings{Iterations: 2, Population: 20, Generations: 10},
		Dir:         "runs/mnist-quickstart",
	}
	fmt.Println(exp)

	// Costs need no training: count the extremes of the space.
	for _, a := range []Arch{space.Smallest(), space.Largest()} {
		fmt.Printf("%s  %v\n", space.Encode(a), space.Costs(a))
	}

	res, err := Transfer(exp)
	if err != nil {
		fmt.Println("transfer:", err)
		return
	}
	fmt.Println(res)
}
