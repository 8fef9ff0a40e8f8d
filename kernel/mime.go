package kernel

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/natgo/nat/dsl/display"
)

// binaryMIME reports whether Jupyter carries data of this type base64-encoded (raster images),
// rather than as text.
func binaryMIME(mime string) bool {
	return strings.HasPrefix(mime, "image/") && mime != display.SVG
}

// jsonMIME reports whether Jupyter carries data of this type as a JSON value.
func jsonMIME(mime string) bool {
	return mime == "application/json" || strings.HasSuffix(mime, "+json")
}

// EncodeBundle returns the "data" field of a display_data, update_display_data or
// execute_result message for b: text as strings, raster images base64-encoded, JSON types as
// JSON values.
func EncodeBundle(b display.Bundle) map[string]any {
	out := make(map[string]any, len(b))
	for mime, data := range b {
		switch {
		case binaryMIME(mime):
			out[mime] = base64.StdEncoding.EncodeToString(data)
		case jsonMIME(mime) && json.Valid(data):
			out[mime] = json.RawMessage(data)
		default:
			out[mime] = string(data)
		}
	}
	return out
}

// DecodeBundle is the inverse of [EncodeBundle], for data received from another kernel. Entries
// that cannot be decoded are skipped.
func DecodeBundle(data map[string]json.RawMessage) display.Bundle {
	out := make(display.Bundle, len(data))
	for mime, raw := range data {
		if jsonMIME(mime) {
			out[mime] = append([]byte(nil), raw...)
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			// Some kernels send multi-line text as a list of lines (nbformat style).
			var lines []string
			if json.Unmarshal(raw, &lines) != nil {
				continue
			}
			s = strings.Join(lines, "")
		}
		if binaryMIME(mime) {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
			if err != nil {
				continue
			}
			out[mime] = b
			continue
		}
		out[mime] = []byte(s)
	}
	return out
}
