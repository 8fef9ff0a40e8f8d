package supernet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
)

// Model is one subnet exported as a standalone network: exactly sized weights (kernels already
// transformed, channels already cut) and batch-norm statistics recalibrated for it. It runs
// without the supernet.
type Model struct {
	Arch space.Arch
	net  *Supernet // a network whose variables are exactly the subnet's
}

// Files of an exported model directory.
const (
	ModelArchFile    = "net.subnet"  // the architecture, NAT's JSON form ({"r","w","d","ks","e"})
	ModelWeightsFile = "weights.bin" // a checkpoint holding the space, the architecture and the weights
)

// Export recalibrates arch's batch norms on calib and returns it as a standalone Model.
func (n *Supernet) Export(ctx context.Context, arch space.Arch, calib *data.Dataset, opt EvalOptions) (*Model, error) {
	if err := n.Recalibrate(ctx, arch, calib, opt); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	arch, plan, err := n.checkArch(arch)
	if err != nil {
		return nil, err
	}
	m := &Model{Arch: arch.Clone()}
	m.net = &Supernet{Space: n.Space, Width: n.Width, maxPlan: plan, backend: n.backend, cache: newExecCache(2),
		Mean: n.Mean, Std: n.Std}
	m.net.params = declareParams(n.Space, plan, false)
	for _, p := range m.net.params.list {
		p.Momentum = nil
		src, err := n.params.get(p.Name)
		if err != nil {
			return nil, err
		}
		if hasSuffix(p.Name, ".dw.w") && p.Dims[0] != src.Dims[0] {
			if err := n.transformedKernel(p, src); err != nil {
				return nil, err
			}
			continue
		}
		copyPrefix(p.Value, p.Dims, src.Value, src.Dims)
	}
	return m, nil
}

// transformedKernel computes dst (a [k,k,c] kernel) from the stored kernel src [K,K,C] exactly as
// the graph does: first c channels, then centre crops through the transform matrices.
func (n *Supernet) transformedKernel(dst, src *Param) error {
	k, c := dst.Dims[0], dst.Dims[2]
	cur := src.Dims[0]
	// cur x cur x c kernel, channels cut.
	kern := make([]float32, cur*cur*c)
	copyPrefix(kern, []int{cur, cur, c}, src.Value, src.Dims)
	layer := dst.Name[:len(dst.Name)-len(".dw.w")]
	for cur > k {
		next := 0
		for _, kk := range n.Space.Kernels {
			if kk < cur {
				next = kk
			}
		}
		if next == 0 {
			return fmt.Errorf("supernet: cannot shrink %s to %d", dst.Name, k)
		}
		t, err := n.params.get(transformName(layer, cur, next))
		if err != nil {
			return err
		}
		s := (cur - next) / 2
		nn := next * next
		out := make([]float32, nn*c)
		for j := 0; j < nn; j++ {
			for i := 0; i < nn; i++ {
				w := t.Value[j*nn+i]
				if w == 0 {
					continue
				}
				yi, xi := i/next+s, i%next+s
				row := kern[(yi*cur+xi)*c : (yi*cur+xi+1)*c]
				o := out[j*c : (j+1)*c]
				for ch := range o {
					o[ch] += w * row[ch]
				}
			}
		}
		kern, cur = out, next
	}
	copy(dst.Value, kern)
	return nil
}

// copyPrefix copies the leading block of src (row-major, dims sdims) of shape ddims into dst.
func copyPrefix(dst []float32, ddims []int, src []float32, sdims []int) {
	if len(ddims) == 1 {
		copy(dst, src[:ddims[0]])
		return
	}
	dInner, sInner := 1, 1
	for i := 1; i < len(ddims); i++ {
		dInner *= ddims[i]
		sInner *= sdims[i]
	}
	for i := 0; i < ddims[0]; i++ {
		copyPrefix(dst[i*dInner:(i+1)*dInner], ddims[1:], src[i*sInner:(i+1)*sInner], sdims[1:])
	}
}

// Save writes the model to dir: ModelArchFile and ModelWeightsFile (atomically each).
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("supernet: saving model: %w", err)
	}
	arch := m.Arch
	h := header{Space: m.net.Space, Width: m.net.Width, Arch: &arch, Mean: m.net.Mean, Std: m.net.Std}
	if err := writeCheckpoint(filepath.Join(dir, ModelWeightsFile), h, m.net.params); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+ModelArchFile+".tmp")
	if err := os.WriteFile(tmp, append(m.Arch.JSON(), '\n'), 0o644); err != nil {
		return fmt.Errorf("supernet: saving model: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, ModelArchFile))
}

// LoadModel reads a model saved by Model.Save from dir. backend nil uses a new Go backend.
func LoadModel(dir string, opt Options) (*Model, error) {
	path := filepath.Join(dir, ModelWeightsFile)
	h, r, f, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if h.Arch == nil {
		return nil, fmt.Errorf("supernet: %s is a supernet checkpoint, not an exported subnet (use Load)", path)
	}
	if data, err := os.ReadFile(filepath.Join(dir, ModelArchFile)); err == nil {
		a, err := space.ParseArchJSON(data)
		if err != nil {
			return nil, fmt.Errorf("supernet: %s: %w", filepath.Join(dir, ModelArchFile), err)
		}
		if !a.Equal(*h.Arch) {
			return nil, fmt.Errorf("supernet: %s says %s but %s holds weights for %s", ModelArchFile, a, ModelWeightsFile, *h.Arch)
		}
	}
	plan, err := h.Space.Plan(*h.Arch)
	if err != nil {
		return nil, fmt.Errorf("supernet: %s: %w", path, err)
	}
	tmp, err := newEmpty(h.Space, h.Width, opt) // for the backend and cache only
	if err != nil {
		return nil, err
	}
	net := &Supernet{Space: h.Space, Width: h.Width, maxPlan: plan, backend: tmp.backend, cache: newExecCache(2), dw: opt.Depthwise,
		Mean: h.Mean, Std: h.Std}
	net.params = declareParams(h.Space, plan, false)
	for _, p := range net.params.list {
		p.Momentum = nil
	}
	if err := fillParams(path, h, r, net.params); err != nil {
		return nil, err
	}
	return &Model{Arch: *h.Arch, net: net}, nil
}

// Evaluate measures top-1, top-5 and loss on eval (no recalibration: the model carries its own
// statistics). Only opt.BatchSize and opt.MaxImages matter.
func (m *Model) Evaluate(ctx context.Context, eval *data.Dataset, opt EvalOptions) (Metrics, error) {
	m.net.mu.Lock()
	defer m.net.mu.Unlock()
	return m.net.evaluate(ctx, m.Arch, eval, opt.withDefaults())
}

// Logits runs the model on count images [count,r,r,Cin] (normalised NHWC float32).
func (m *Model) Logits(images []float32, count int) ([]float32, error) {
	return m.net.Logits(m.Arch, images, count)
}

// Normalization returns the per-channel mean and std the model's inputs are normalised with.
func (m *Model) Normalization() (mean, std []float32) { return m.net.Mean, m.net.Std }

// NumParams counts the model's trainable parameters.
func (m *Model) NumParams() int { t, _ := m.net.params.numElements(); return t }

// Close releases the model's executables.
func (m *Model) Close() { m.net.Close() }
