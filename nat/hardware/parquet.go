package hardware

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
)

// lutRow is one Parquet row. Besides the key it carries the key's fields as columns so a table
// can be queried (DuckDB, pandas) without parsing keys.
type lutRow struct {
	Key     string  `parquet:"key,zstd"`
	Type    string  `parquet:"layer_type,zstd,dict"`
	InH     int32   `parquet:"in_h,zstd"`
	InW     int32   `parquet:"in_w,zstd"`
	InC     int32   `parquet:"in_c,zstd"`
	OutH    int32   `parquet:"out_h,zstd"`
	OutW    int32   `parquet:"out_w,zstd"`
	OutC    int32   `parquet:"out_c,zstd"`
	Expand  int32   `parquet:"expand,zstd"`
	Kernel  int32   `parquet:"kernel,zstd"`
	Stride  int32   `parquet:"stride,zstd"`
	IDSkip  bool    `parquet:"idskip"`
	SE      bool    `parquet:"se"`
	HSwish  bool    `parquet:"hs"`
	Mean    float64 `parquet:"mean_ms,zstd"`
	Var     float64 `parquet:"var_ms2,zstd"`
	Samples int32   `parquet:"samples,zstd"`
}

// Parquet key-value metadata labels.
const pqPrefix = "nat.lut."

// hwc spreads a key shape into H, W, C columns (a bare C goes to C with H = W = 1).
func hwc(v []int) (h, w, c int32) {
	if len(v) == 1 {
		return 1, 1, int32(v[0])
	}
	return int32(v[0]), int32(v[1]), int32(v[2])
}

// WriteParquet writes the table as zstd-compressed Parquet, one row per entry sorted by key,
// with its name, format and metadata in the file's key-value metadata.
func WriteParquet(w io.Writer, t *LUT) error {
	opts := []parquet.WriterOption{parquet.Compression(&parquet.Zstd)}
	for _, kv := range t.metaPairs() {
		opts = append(opts, parquet.KeyValueMetadata(pqPrefix+kv[0], kv[1]))
	}
	pw := parquet.NewGenericWriter[lutRow](w, opts...)
	keys := t.Keys()
	rows := make([]lutRow, 0, len(keys))
	for _, key := range keys {
		k, err := ParseKey(key)
		if err != nil {
			return err // cannot happen: Set checked every key
		}
		s := t.entries[key]
		r := lutRow{Key: key, Type: k.Type, Expand: int32(k.Expand), Kernel: int32(k.Kernel), Stride: int32(k.Stride),
			IDSkip: k.IDSkip, SE: k.SE, HSwish: k.HSwish, Mean: s.Mean, Var: s.Var, Samples: int32(s.Samples)}
		r.InH, r.InW, r.InC = hwc(k.In)
		r.OutH, r.OutW, r.OutC = hwc(k.Out)
		rows = append(rows, r)
	}
	if _, err := pw.Write(rows); err != nil {
		return fmt.Errorf("hardware: writing table %q as Parquet: %w", t.Name, err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("hardware: writing table %q as Parquet: %w", t.Name, err)
	}
	return nil
}

// ReadParquet reads a table written by WriteParquet (or any Parquet file with key, mean_ms and
// var_ms2 columns). name is used when the file's metadata does not name the table.
func ReadParquet(r io.ReaderAt, size int64, name string) (*LUT, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a Parquet file: %w", name, err)
	}
	for _, col := range []string{"key", "mean_ms", "var_ms2"} {
		if _, ok := f.Schema().Lookup(col); !ok {
			return nil, fmt.Errorf("%s: Parquet file has no %q column: not a latency lookup table", name, col)
		}
	}
	t := &LUT{Name: name, entries: map[string]Stat{}}
	for _, label := range metaLabels {
		if val, ok := f.Lookup(pqPrefix + label); ok {
			if err := t.setMeta(label + ": " + val); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	rd := parquet.NewGenericReader[lutRow](f)
	defer rd.Close()
	buf := make([]lutRow, 256)
	row := 0
	for {
		n, err := rd.Read(buf)
		for _, x := range buf[:n] {
			row++
			if err := t.Set(x.Key, Stat{Mean: x.Mean, Var: x.Var, Samples: int(x.Samples)}); err != nil {
				return nil, fmt.Errorf("%s: row %d: %w", name, row, err)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %w", name, row+1, err)
		}
	}
	if t.Len() == 0 {
		return nil, fmt.Errorf("%s: no entries: not a latency lookup table", name)
	}
	return t, nil
}

// Load reads a table from a file: Parquet for ".parquet", YAML otherwise. The table is named
// after the file (without directory, extension and a "_lut" suffix) unless its metadata names it.
func Load(path string) (*LUT, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hardware: %w", err)
	}
	defer f.Close()
	name := tableName(path)
	var t *LUT
	if isParquet(path) {
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("hardware: %w", err)
		}
		t, err = ReadParquet(f, st.Size(), path)
		if err != nil {
			return nil, err
		}
	} else {
		t, err = ReadYAML(f, path)
		if err != nil {
			return nil, err
		}
	}
	if t.Name == path {
		t.Name = name
	}
	return t, nil
}

// Save writes a table to a file, Parquet for ".parquet" and YAML otherwise, atomically (through
// a temporary file in the same directory), so an interrupted save never leaves half a table.
func Save(path string, t *LUT) error {
	tmp, err := os.CreateTemp(dirOf(path), ".lut-*.tmp")
	if err != nil {
		return fmt.Errorf("hardware: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes files private; a table is not
		tmp.Close()
		return fmt.Errorf("hardware: %w", err)
	}
	if isParquet(path) {
		err = WriteParquet(tmp, t)
	} else {
		err = WriteYAML(tmp, t)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("hardware: saving %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("hardware: %w", err)
	}
	return nil
}
