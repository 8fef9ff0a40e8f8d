//go:build example

// A hardware budget: latency on the i7-8700K lookup table that NAT's authors published, as an
// objective and as a constraint, on NAT's ImageNet space.
//
//	nat run dsl/examples/budget/main.go [path/to/i7-8700K_lut.yaml]
//	go run -tags example ./dsl/examples/budget [path/to/i7-8700K_lut.yaml]
package main

import (
	"fmt"
	"os"

	. "github.com/natgo/nat/dsl"
)

func main() {
	lut := "../shared/reference/hardware/i7-8700K_lut.yaml"
	if len(os.Args) > 1 {
		lut = os.Args[1]
	}
	cpu := LatencyTable("i7-8700K", lut)
	fmt.Println(cpu)

	space := MobileNetV3()
	exp := Experiment{
		Name:        "cpu-budget",
		Space:       space,
		Objectives:  Objectives(Minimize(Latency(cpu)), Minimize(MAdds())),
		Constraints: Constraints(cpu.Budget(40)),
	}
	m1 := space.Decode("08|0|1100 1440 5510 5220 8877") // NAT-M1
	res, err := Evaluate(exp, space.Smallest(), m1, space.Largest())
	if err != nil {
		fmt.Println("evaluate:", err)
		return
	}
	fmt.Print(res.Table())
	best, err := res.Best(Minimize(MAdds()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("fewest multiply-adds within 40 ms:", best.Arch)
}
