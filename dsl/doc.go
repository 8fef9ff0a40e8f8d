// Package dsl is the vocabulary of NAT experiments: search spaces, datasets, objectives, hardware
// targets, constraints, predictor and search settings, and the entry points that run them
// (Transfer, Search, Evaluate). It is written to read well under a dot-import:
//
//	import . "github.com/natgo/nat/dsl"
//
//	space := MobileNetV3()
//	objs := Objectives(Maximize(Top1()), Minimize(MAdds()))
//
// The same file runs interpreted (nat run, nat repl, the notebook kernel, all through package
// dsl/session) or compiled with go run: the vocabulary is ordinary Go.
//
// Functions that need the evaluation's context or a display (Context, Show, and the entry
// points) behave sensibly when compiled (background context, text on stdout); an interpreter
// session binds them to the running cell (cancellation, rich displays in the notebook).
//
// What is not built yet in the engine is reported by a clear error wrapping ErrNotBuilt, never
// by a fake result. README.md lists the vocabulary, what works today, and the interpreter's
// limits with the way around each.
package dsl
