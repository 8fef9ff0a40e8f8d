package data_test

import (
	"fmt"
	"log"

	"github.com/natgo/nat/nat/data"
)

// The supernet's training loop: load MNIST, hold 5,000 training images out
// for validation as NAT does, and draw normalised, augmented 32x32 batches.
func Example() {
	train, test, err := data.Load("mnist", data.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	train, val, err := train.Split(5000, 1)
	if err != nil {
		log.Fatal(err)
	}
	mean, std := train.MeanStd()
	opt := data.BatchOptions{Resolution: 32, Mean: mean, Std: std, Augment: true}
	b := data.NewBatcher(train, 128, opt, 1)
	images, labels, epoch := b.Next()
	n, h, w, c := b.Shape()
	fmt.Printf("train %d, val %d, test %d\n", train.N, val.N, test.N)
	fmt.Printf("batch %dx%dx%dx%d = %d floats, %d labels, epoch %d, %d steps per epoch\n",
		n, h, w, c, len(images), len(labels), epoch, b.StepsPerEpoch())

	// Evaluation: in order, without augmentation, last batch partial.
	count := 0
	evalOpt := data.BatchOptions{Resolution: 32, Mean: mean, Std: std}
	err = val.ForEachBatch(1000, evalOpt, func(images []float32, labels []int32) error {
		count += len(labels)
		return nil
	})
	fmt.Println("validated", count, err)
	// Output:
	// train 55000, val 5000, test 10000
	// batch 128x32x32x1 = 131072 floats, 128 labels, epoch 0, 429 steps per epoch
	// validated 5000 <nil>
}
