// Package vocab is a fixture for the documentation reader.
package vocab

// Space is a search space.
type Space struct{}

// NewSpace returns an empty space.
func NewSpace() *Space { return &Space{} }

// Size counts the subnets of the space.
func (s *Space) Size() int { return 0 }

// Objective is an objective.
type Objective struct{}

// Size of an objective list.
func (o Objective) Size() int { return 1 }

// Top1 is top-1 accuracy.
func Top1() Objective { return Objective{} }

// MaxDepth is the deepest a stage may be.
const MaxDepth = 4
