package main

import "fmt"

// TODO: each function below is replaced by its own file as the issue that owns it lands.
// They fail loudly rather than pretend.

func notBuilt(what string) error {
	return fmt.Errorf("%s is not built yet (see README, 'What works today')", what)
}
