package archive

import (
	"bytes"
	"fmt"
	"image/color"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotOptions choose the axes of a Pareto plot.
type PlotOptions struct {
	// X and Y name objectives of the rows (Row.Objectives); defaults: the second objective on X
	// (a cost such as madds) and the first on Y (top1).
	X, Y string
	// Title of the plot; default "Pareto front".
	Title string
	// Width and Height in centimetres; default 16 x 11.
	Width, Height float64
}

// PlotFront writes a scatter of every row (grey) with the front (rows with Front set) drawn as
// a line of highlighted points, to dir/base.svg and dir/base.png, each atomically.
func PlotFront(rows []Row, dir, base string, opt PlotOptions) error {
	for _, format := range []string{"svg", "png"} {
		b, err := RenderFront(rows, format, opt)
		if err != nil {
			return err
		}
		if err := WriteFileAtomic(dir, base+"."+format, b); err != nil {
			return err
		}
	}
	return nil
}

// RenderFront draws the plot PlotFront writes and returns it in format ("svg", "png", "pdf"),
// for a notebook to display a live Pareto plot without touching the disk.
func RenderFront(rows []Row, format string, opt PlotOptions) ([]byte, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("archive: plot: no rows")
	}
	names := make([]string, len(rows[0].Objectives))
	for i, o := range rows[0].Objectives {
		names[i] = o.Name
	}
	if opt.Y == "" && len(names) > 0 {
		opt.Y = names[0]
	}
	if opt.X == "" {
		if len(names) > 1 {
			opt.X = names[1]
		} else {
			opt.X = "madds"
		}
	}
	if opt.Title == "" {
		opt.Title = "Pareto front"
	}
	if opt.Width == 0 {
		opt.Width = 16
	}
	if opt.Height == 0 {
		opt.Height = 11
	}
	value := func(r *Row, name string) (float64, error) {
		if v, ok := r.Objective(name); ok {
			return v, nil
		}
		switch name {
		case "madds":
			return float64(r.MAdds), nil
		case "params":
			return float64(r.Params), nil
		case "top1":
			return r.Top1, nil
		}
		return 0, fmt.Errorf("archive: plot: rows have no objective %q (have %v)", name, names)
	}
	var all, front plotter.XYs
	for i := range rows {
		x, err := value(&rows[i], opt.X)
		if err != nil {
			return nil, err
		}
		y, err := value(&rows[i], opt.Y)
		if err != nil {
			return nil, err
		}
		all = append(all, plotter.XY{X: x, Y: y})
		if rows[i].Front {
			front = append(front, plotter.XY{X: x, Y: y})
		}
	}
	sort.Slice(front, func(i, j int) bool { return front[i].X < front[j].X })

	p := plot.New()
	p.Title.Text = opt.Title
	p.X.Label.Text = opt.X
	p.Y.Label.Text = opt.Y
	p.Add(plotter.NewGrid())
	sc, err := plotter.NewScatter(all)
	if err != nil {
		return nil, fmt.Errorf("archive: plot: %w", err)
	}
	sc.GlyphStyle.Color = color.Gray{Y: 160}
	sc.GlyphStyle.Radius = vg.Points(2)
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	p.Add(sc)
	p.Legend.Add("archive", sc)
	if len(front) > 0 {
		line, points, err := plotter.NewLinePoints(front)
		if err != nil {
			return nil, fmt.Errorf("archive: plot: %w", err)
		}
		line.Color = color.RGBA{R: 200, G: 40, B: 40, A: 255}
		line.StepStyle = plotter.NoStep
		points.Color = line.Color
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(3)
		p.Add(line, points)
		p.Legend.Add("front", line, points)
	}
	p.Legend.Top = true
	p.Legend.Left = false
	w, h := vg.Length(opt.Width)*vg.Centimeter, vg.Length(opt.Height)*vg.Centimeter
	wt, err := p.WriterTo(w, h, format)
	if err != nil {
		return nil, fmt.Errorf("archive: plot: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("archive: plot: %w", err)
	}
	return buf.Bytes(), nil
}
