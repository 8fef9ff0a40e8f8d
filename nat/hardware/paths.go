package hardware

import (
	"path/filepath"
	"strings"
)

func isParquet(path string) bool { return strings.EqualFold(filepath.Ext(path), ".parquet") }

func dirOf(path string) string { return filepath.Dir(path) }

// tableName is a file's base name without extension and a trailing "_lut":
// ".../i7-8700K_lut.yaml" -> "i7-8700K".
func tableName(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	return strings.TrimSuffix(base, "_lut")
}
