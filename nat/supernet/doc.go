// Package supernet is NAT's weight-sharing supernet: an elastic MobileNetV3 (Once-for-All style)
// over any nat/space Space at one width multiplier, built on GoMLX and tuned for its pure-Go
// backend.
//
// Variables are kept at their maximum size. A subnet (space.Arch) uses the first d blocks of each
// stage, the first c expanded channels of each block (sorted by importance before expansion is
// shrunk), the centre k x k of each depthwise kernel through OFA's learned kernel-transform
// matrices (7->5, 5->3, identity-initialised), and any input resolution.
//
// What a caller does with it:
//
//	net, _ := supernet.New(sp, 1.0, supernet.Options{Seed: 1})    // or supernet.Load(path)
//	net.Train(ctx, supernet.Uniform(sp), trainData, supernet.TrainOptions{Steps: 1000})
//	m, _ := net.Evaluate(ctx, arch, calibData, valData, supernet.EvalOptions{})
//	net.Save(path)                                                 // atomic, with optimizer state
//	model, _ := net.Export(ctx, arch, calibData, supernet.EvalOptions{}) // standalone subnet
//
// Parameters live in host memory as float32 slices (the optimizer runs there); each architecture
// gets its own compiled executables (training, BN recalibration, inference) held in an LRU that
// finalizes what it evicts.
//
// Both cores: the backend runs as many executions at once as there are goroutines calling it, so
// evaluation and recalibration run EvalOptions.Workers batches at a time (identical results for
// any value), and training splits each subnet's batch into TrainOptions.Workers parts (default 2,
// a constant so that trained weights do not depend on the machine) whose gradients are averaged;
// batch norm then normalises each part by its own statistics ("ghost batch norm"). Workers: 1
// trains exactly as one whole batch.
//
// It is not a data loader (see nat/data) and not the search (see the transfer loop).
package supernet
