// Package display is the small contract between values that know how to show themselves and the
// front ends that show them: the notebook kernel (rich MIME output, updated in place) and the
// command line (plain text).
//
// It is not a rendering library: values build their own HTML, Markdown, PNG or SVG and hand it over
// as a Bundle.
package display

// MIME types understood by the front ends.
const (
	TextPlain = "text/plain"
	HTML      = "text/html"
	Markdown  = "text/markdown"
	PNG       = "image/png"
	SVG       = "image/svg+xml"
)

// Bundle maps a MIME type to the bytes of one representation of a value. Every bundle should carry
// TextPlain so that a terminal can show it too. PNG data are the raw file bytes (the kernel
// base64-encodes them for Jupyter).
type Bundle map[string][]byte

// Displayer is implemented by values that have a rich representation, such as a Pareto front
// (a table and a plot) or a search space (a summary table).
type Displayer interface {
	Display() Bundle
}

// Publisher receives displays while code runs, for example live progress during a transfer.
// A display published with a non-empty id can later be replaced in place by publishing again
// with the same id and update set.
type Publisher interface {
	Publish(b Bundle, id string, update bool)
}

// PublisherFunc adapts a function to the Publisher interface.
type PublisherFunc func(b Bundle, id string, update bool)

// Publish calls f.
func (f PublisherFunc) Publish(b Bundle, id string, update bool) { f(b, id, update) }
