//go:build example

// Quickstart: transfer the shipped MNIST supernet to Fashion-MNIST, searching top-1 against
// multiply-adds, then pick the most accurate subnet under a budget.
//
//	nat run dsl/examples/quickstart/main.go [-iterations 2] [-dry-run]
//	go run -tags example ./dsl/examples/quickstart [-iterations 2] [-dry-run]
//
// Run from the repository root (or pass -supernet). A real run trains and evaluates subnets: on
// a 2-core CPU expect tens of minutes; -dry-run describes the experiment and stops.
package main

import (
	"flag"
	"fmt"
	"os"

	. "github.com/natgo/nat/dsl"
)

func main() {
	supernet := flag.String("supernet", "results/supernets/mnist/supernet.bin", "pre-trained supernet checkpoint")
	iterations := flag.Int("iterations", 2, "transfer iterations")
	dir := flag.String("dir", "runs/quickstart", "run directory (a rerun resumes)")
	dryRun := flag.Bool("dry-run", false, "describe the experiment and stop before the transfer")
	flag.Parse()

	space := MNISTSpace()
	fmt.Println(space)

	exp := Experiment{
		Name:        "quickstart",
		Space:       space,
		Data:        Dataset("fashion-mnist").Limit(6000, 0).Holdout(1000, 500),
		Objectives:  Objectives(Maximize(Top1()), Minimize(MAdds())),
		Constraints: Constraints(AtMost(MAdds(), 15e6)),
		Search:      SearchSettings{Iterations: *iterations, Initial: 30, Population: 40, Generations: 20, Candidates: 4, AdaptSteps: 50, Seed: 1},
		Supernet:    *supernet,
		Dir:         *dir,
	}
	fmt.Println(exp)

	// Costs need no training: count the extremes of the space.
	for _, a := range []Arch{space.Smallest(), space.Largest()} {
		fmt.Printf("%s  %v\n", space.Encode(a), space.Costs(a))
	}
	if *dryRun {
		fmt.Println("dry run: stopping before the transfer")
		return
	}

	res, err := Transfer(exp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "transfer:", err)
		os.Exit(1)
	}
	fmt.Println(res)
	best, err := res.Best(Maximize(Top1()), AtMost(MAdds(), 5e6))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("most accurate under 5M multiply-adds:", best)
}
