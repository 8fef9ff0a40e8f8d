package session

import (
	"testing"
	"time"
)

// TestSettleWaitsOnlyForTheCurrentCell: a goroutine an earlier cell left running (a background
// job) must not hold up the end of every later cell; one the current cell started is waited for
// until it finishes.
func TestSettleWaitsOnlyForTheCurrentCell(t *testing.T) {
	var g goroutines
	g.begin()
	g.started() // an earlier cell's background goroutine, never finished
	g.begin()
	settled := make(chan struct{})
	go func() {
		g.settle(time.Hour)
		close(settled)
	}()
	select {
	case <-settled:
	case <-time.After(10 * time.Second):
		t.Fatal("settle waited for a goroutine an earlier cell started")
	}

	c := g.started() // the current cell's goroutine
	settled = make(chan struct{})
	go func() {
		g.settle(time.Hour)
		close(settled)
	}()
	select {
	case <-settled:
		t.Fatal("settle returned while the current cell's goroutine was running")
	case <-time.After(50 * time.Millisecond):
	}
	g.finished(c)
	select {
	case <-settled:
	case <-time.After(10 * time.Second):
		t.Fatal("settle did not return when the current cell's goroutine finished")
	}
}
