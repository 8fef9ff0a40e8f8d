package supernet

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/natgo/nat/nat/space"
)

// checkpointMagic starts every checkpoint file (supernets and exported subnets).
const checkpointMagic = "NAT-SUPERNET-CHECKPOINT v1\n"

// header is the JSON part of a checkpoint; float32 little-endian values follow it, parameter by
// parameter in header order (then the momentum buffers when Momentum is set).
type header struct {
	Space            *space.Space `json:"space"`
	Width            float64      `json:"width"`
	Arch             *space.Arch  `json:"arch,omitempty"` // set for an exported subnet
	Step             int64        `json:"step"`
	ImportanceSorted bool         `json:"importance_sorted"`
	Mean             []float32    `json:"mean,omitempty"`
	Std              []float32    `json:"std,omitempty"`
	Momentum         bool         `json:"momentum"`
	Params           []paramMeta  `json:"params"`
}

type paramMeta struct {
	Name  string `json:"name"`
	Dims  []int  `json:"dims"`
	Decay bool   `json:"decay,omitempty"`
	Stat  bool   `json:"stat,omitempty"`
}

// SaveOptions configure Save.
type SaveOptions struct {
	// WithoutOptimizer leaves the momentum buffers out (half the size; a resumed run restarts
	// momentum from zero).
	WithoutOptimizer bool
}

// Save writes the supernet (and, unless opt.WithoutOptimizer, the optimizer state) to path
// atomically: a temporary file in the same directory is written, synced and renamed.
func (n *Supernet) Save(path string, opt SaveOptions) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := header{Space: n.Space, Width: n.Width, Step: n.Step, ImportanceSorted: n.ImportanceSorted,
		Mean: n.Mean, Std: n.Std, Momentum: !opt.WithoutOptimizer}
	return writeCheckpoint(path, h, n.params)
}

func writeCheckpoint(path string, h header, ps *paramSet) (err error) {
	for _, p := range ps.list {
		h.Params = append(h.Params, paramMeta{Name: p.Name, Dims: p.Dims, Decay: p.Decay, Stat: p.Stat})
	}
	js, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("supernet: encoding checkpoint header: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("supernet: saving %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("supernet: saving %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err = w.WriteString(checkpointMagic); err != nil {
		return err
	}
	if err = binary.Write(w, binary.LittleEndian, uint64(len(js))); err != nil {
		return err
	}
	if _, err = w.Write(js); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	writeFloats := func(v []float32) error {
		for len(v) > 0 {
			m := min(len(v), cap(buf)/4)
			buf = buf[:0]
			for _, x := range v[:m] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			v = v[m:]
		}
		return nil
	}
	for _, p := range ps.list {
		if err = writeFloats(p.Value); err != nil {
			return fmt.Errorf("supernet: saving %s: %w", path, err)
		}
	}
	if h.Momentum {
		for _, p := range ps.list {
			if p.Momentum != nil {
				if err = writeFloats(p.Momentum); err != nil {
					return fmt.Errorf("supernet: saving %s: %w", path, err)
				}
			}
		}
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("supernet: saving %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("supernet: saving %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("supernet: saving %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("supernet: saving %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("supernet: saving %s: %w", path, err)
	}
	return nil
}

// readCheckpoint reads the header and leaves r positioned at the values.
func readCheckpoint(path string) (*header, *bufio.Reader, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("supernet: %w", err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	magic := make([]byte, len(checkpointMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != checkpointMagic {
		f.Close()
		return nil, nil, nil, fmt.Errorf("supernet: %s is not a supernet checkpoint (bad magic)", path)
	}
	var hl uint64
	if err := binary.Read(r, binary.LittleEndian, &hl); err != nil || hl > 1<<26 {
		f.Close()
		return nil, nil, nil, fmt.Errorf("supernet: %s: bad header length", path)
	}
	js := make([]byte, hl)
	if _, err := io.ReadFull(r, js); err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("supernet: %s: truncated header: %w", path, err)
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("supernet: %s: header: %w", path, err)
	}
	if h.Space == nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("supernet: %s: header has no search space", path)
	}
	if err := h.Space.Validate(); err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("supernet: %s: %w", path, err)
	}
	return &h, r, f, nil
}

// fillParams reads values (and momentum when present) into ps, checking names and shapes.
func fillParams(path string, h *header, r io.Reader, ps *paramSet) error {
	if len(h.Params) != len(ps.list) {
		return fmt.Errorf("supernet: %s has %d parameters; this network has %d", path, len(h.Params), len(ps.list))
	}
	for i, m := range h.Params {
		p := ps.list[i]
		if m.Name != p.Name || !equalDims(m.Dims, p.Dims) {
			return fmt.Errorf("supernet: %s: parameter %d is %s%v; this network expects %s%v", path, i, m.Name, m.Dims, p.Name, p.Dims)
		}
	}
	buf := make([]byte, 1<<16)
	readFloats := func(v []float32) error {
		for len(v) > 0 {
			m := min(len(v), len(buf)/4)
			if _, err := io.ReadFull(r, buf[:4*m]); err != nil {
				return err
			}
			for i := 0; i < m; i++ {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
			}
			v = v[m:]
		}
		return nil
	}
	for _, p := range ps.list {
		if err := readFloats(p.Value); err != nil {
			return fmt.Errorf("supernet: %s: truncated values of %s: %w", path, p.Name, err)
		}
	}
	if h.Momentum {
		for _, p := range ps.list {
			if p.Momentum != nil {
				if err := readFloats(p.Momentum); err != nil {
					return fmt.Errorf("supernet: %s: truncated momentum of %s: %w", path, p.Name, err)
				}
			}
		}
	}
	var one [1]byte
	if k, _ := r.Read(one[:]); k != 0 {
		return fmt.Errorf("supernet: %s: trailing bytes after the values", path)
	}
	return nil
}

func equalDims(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Load reads a supernet saved by Save. opt.Seed is ignored.
func Load(path string, opt Options) (*Supernet, error) {
	h, r, f, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if h.Arch != nil {
		return nil, fmt.Errorf("supernet: %s is an exported subnet, not a supernet (use LoadModel)", path)
	}
	n, err := newEmpty(h.Space, h.Width, opt)
	if err != nil {
		return nil, fmt.Errorf("supernet: %s: %w", path, err)
	}
	if err := fillParams(path, h, r, n.params); err != nil {
		return nil, err
	}
	n.Step, n.ImportanceSorted, n.Mean, n.Std = h.Step, h.ImportanceSorted, h.Mean, h.Std
	return n, nil
}

var errNotModel = errors.New("not an exported subnet")
