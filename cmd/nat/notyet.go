package main

import (
	"context"
	"fmt"
)

// TODO: each function below is replaced by its own file as the issue that owns it lands.
// They fail loudly rather than pretend.

func notBuilt(what string) error {
	return fmt.Errorf("%s is not built yet (see README, 'What works today')", what)
}

func runBenchSupernet(ctx context.Context, e *env, args []string) error {
	return notBuilt("nat bench supernet")
}
func runEvaluate(ctx context.Context, e *env, args []string) error { return notBuilt("nat evaluate") }
