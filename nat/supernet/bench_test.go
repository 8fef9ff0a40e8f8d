package supernet

import (
	"context"
	"testing"
)

func TestCompileTimeCompilesOnceForTraining(t *testing.T) {
	sp := tinySpace(t)
	net, err := New(sp, 1.0, Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	a := sp.Smallest()
	a.Width = 1.0
	ct, err := net.CompileTime(a, 8, 16)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Train <= 0 || ct.Infer <= 0 {
		t.Fatalf("compile times %+v: want both positive", ct)
	}
	cached := net.cache.len()
	if cached != 2 {
		t.Fatalf("after CompileTime the cache holds %d executables, want the training and inference ones", cached)
	}
	// Training and inference at those batch sizes reuse the executables: nothing new is cached.
	if _, err := net.Train(context.Background(), Fixed(a), syntheticDigits(16, 12, 6, 1), TrainOptions{Steps: 1, BatchSize: 8}); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Logits(a, make([]float32, 16*a.Resolution*a.Resolution*sp.InChannels), 16); err != nil {
		t.Fatal(err)
	}
	if net.cache.len() != cached {
		t.Errorf("cache grew from %d to %d: Train or Logits built a new executable", cached, net.cache.len())
	}
	if _, err := net.CompileTime(a, 0, 16); err == nil {
		t.Error("CompileTime with batch 0 succeeded")
	}
}

func TestBenchMemoryVisitsDistinctSubnetsAndEvicts(t *testing.T) {
	sp := tinySpace(t)
	samples, err := BenchMemory(context.Background(), sp, 20, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 || samples[len(samples)-1].Subnets != 20 {
		t.Fatalf("samples %+v: want the last one at 20 subnets", samples)
	}
	last := samples[len(samples)-1]
	if last.Cached > 16 || last.Evictions != 20-last.Cached {
		t.Errorf("last sample %+v: want at most 16 cached and the rest evicted", last)
	}
	if last.RSSMB <= 0 || last.HeapMB <= 0 {
		t.Errorf("last sample %+v: memory not measured", last)
	}
}
