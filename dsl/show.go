package dsl

import (
	"context"
	"fmt"
	"os"

	"github.com/natgo/nat/dsl/display"
)

// Context returns the context of the running evaluation: in an interpreter session it is
// canceled when the cell is interrupted or times out; compiled, it is context.Background().
// Long-running vocabulary calls use it; scripts may pass it to their own loops.
func Context() context.Context { return context.Background() }

// Show displays a value while code runs: its rich display in a notebook, its text otherwise.
func Show(v any) {
	if b, ok := v.(display.Bundle); ok {
		fmt.Fprintln(os.Stdout, string(b[display.TextPlain]))
		return
	}
	if d, ok := v.(display.Displayer); ok {
		if t, ok := d.Display()[display.TextPlain]; ok {
			fmt.Fprintln(os.Stdout, string(t))
			return
		}
	}
	fmt.Fprintln(os.Stdout, v)
}
