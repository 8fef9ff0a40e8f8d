// Package hardware is NAT's model of the device a subnet runs on (nat-algorithm.md section 5):
// hardware targets that a user names, latency lookup tables (LUTs) keyed per layer configuration
// as OFA and MSuNAS/NSGANetV2 key them, and budgets such as "latency <= 15 ms" or
// "madds <= 300M".
//
// A LUT holds one entry (mean and variance, in milliseconds) per layer configuration; a network's
// predicted latency is the sum of the entries of its stem, blocks and head. Tables are read and
// written in the published YAML format (the authors' i7-8700K table reads unchanged) and in
// Parquet. Where a table comes from is the business of a Measurer: this package defines the
// interface, nat/hardware/measure implements it on this machine's GoMLX backend, and a table
// measured elsewhere (another backend, a GPU, a phone) is just a file with the same keys.
//
// It is not a cost counter (MAdds and parameters are nat/cost; a Target can bound them) and it
// does not run networks itself.
package hardware
