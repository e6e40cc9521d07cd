package selectivity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"image"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/emosel/emosel/internal/atomicfile"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// DefaultBatch is the number of images per forward pass Record uses when
// RecordConfig.Batch is 0.
const DefaultBatch = 16

// Names of the files Record writes besides one <unit>.npy per conv unit.
const (
	KeyFile    = "key.json"   // the cache key, written last
	ImagesFile = "images.csv" // row,file,valence,category: the rows of every array
)

// keyFormat is the version of the cache layout; bump it when the arrays'
// meaning changes so that old caches become stale.
const keyFormat = 1

// RecordConfig adjusts Record. The zero value records in batches of
// DefaultBatch, reports no progress and labels the network "random" with
// seed 0.
type RecordConfig struct {
	// Batch is the number of images per forward pass; 0 means
	// DefaultBatch.
	Batch int
	// Weights names the network's weights in the cache key, e.g. the
	// weight file's base name; "" means a random initialisation from
	// Seed. Both are labels for people reading key.json: the key also
	// holds a hash of the architecture, every parameter and every gain, so
	// a cache is never reused for a different network whatever they say.
	Weights string
	Seed    uint64
	// Progress, if not nil, is called with the number of images done and
	// the total: with 0 just before the first batch, then after each
	// batch (never on a cache hit).
	Progress func(done, total int)
}

// Key identifies what a recording cache holds; Record reuses a cache only
// if its key.json holds an equal Key and every array it lists is intact.
type Key struct {
	Format  int     `json:"format"`
	Arch    string  `json:"arch"`
	Weights string  `json:"weights"`        // RecordConfig.Weights, or "random"
	Seed    *uint64 `json:"seed,omitempty"` // the seed, for a random network only
	// Params is the SHA-256 of the layer list (Net.String), every
	// parameter (key, shape, float32 bytes) and every non-nil ReLU gain.
	Params  string      `json:"params"`
	SetHash string      `json:"set_hash"` // stimuli.Set.Hash
	Images  int         `json:"images"`   // rows of every array
	Resize  string      `json:"resize"`   // preprocessing, e.g. "Squash 224"
	Units   []UnitShape `json:"units"`    // recorded units in forward order
}

// UnitShape names a recorded unit and its channel count: the array
// <Name>.npy is [Key.Images, Channels].
type UnitShape struct {
	Name     string `json:"name"`
	Channels int    `json:"channels"`
}

func (k Key) equal(o Key) bool {
	same := func(a, b *uint64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return k.Format == o.Format && k.Arch == o.Arch && k.Weights == o.Weights && same(k.Seed, o.Seed) &&
		k.Params == o.Params && k.SetHash == o.SetHash && k.Images == o.Images && k.Resize == o.Resize &&
		slices.Equal(k.Units, o.Units)
}

// keyFileContent is key.json: the key and the arrays it vouches for.
type keyFileContent struct {
	Key   Key         `json:"key"`
	Files []cacheFile `json:"files"`
}

type cacheFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Recording describes a directory of recorded responses of one set.
type Recording struct {
	Dir    string
	Key    Key
	Set    *stimuli.Set
	Cached bool // the arrays were already there; no forward pass ran
}

// Record runs every image of set through m, batch by batch, and writes
// each conv unit's responses — the [N, C] spatial means of its post-ReLU
// output (Eq 2), one row per image in set order — to dir/<unit>.npy,
// with dir/images.csv (row,file,valence,category) naming the rows. All
// units are recorded by m.Record hooks in one forward pass per batch, and
// rows are streamed to disk, so memory does not grow with the number of
// images.
//
// dir is a cache: when dir/key.json holds the same Key (architecture,
// parameter hash, weights label and seed, set hash, preprocessing, units)
// and every array it lists has its recorded size and SHA-256, Record runs
// no forward pass and only rewrites images.csv if the set's categories
// changed. Otherwise key.json is removed first and written last, after
// every array has been renamed into place, so an interrupted or failed run
// never leaves a directory that looks complete.
//
// ctx is checked between images and batches. Record replaces m's
// recording hooks and removes them before returning. Errors name the set
// and the file at fault. It panics on a nil model or set, an empty set, a
// model without conv units, or a negative batch size.
func Record(ctx context.Context, m *nn.Model, set *stimuli.Set, pre imagenet.Config, dir string, cfg RecordConfig) (*Recording, error) {
	if m == nil || set == nil {
		panic("selectivity: Record with a nil model or set")
	}
	if len(set.Images) == 0 {
		panic(fmt.Sprintf("selectivity: Record of set %s with no images", set.Name))
	}
	if cfg.Batch < 0 {
		panic(fmt.Sprintf("selectivity: Record with batch size %d", cfg.Batch))
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	units := m.ConvUnits()
	if len(units) == 0 {
		panic(fmt.Sprintf("selectivity: model %s has no conv units to record", m.Arch))
	}
	key, err := NewKey(m, set, pre, cfg)
	if err != nil {
		return nil, err
	}
	rec := &Recording{Dir: dir, Key: key, Set: set}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("selectivity: set %s: %w", set.Name, err)
	}
	if validCache(dir, key) {
		rec.Cached = true
		return rec, writeImages(dir, set)
	}
	if err := os.Remove(filepath.Join(dir, KeyFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("selectivity: set %s: %w", set.Name, err)
	}
	if err := stream(ctx, m, set, pre, dir, cfg); err != nil {
		return nil, err
	}
	if err := writeImages(dir, set); err != nil {
		return nil, err
	}
	content := keyFileContent{Key: key}
	for _, u := range key.Units {
		f, err := describeFile(filepath.Join(dir, u.Name+".npy"))
		if err != nil {
			return nil, fmt.Errorf("selectivity: set %s: %w", set.Name, err)
		}
		content.Files = append(content.Files, f)
	}
	js, err := json.MarshalIndent(content, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("selectivity: %w", err) // unreachable: plain data
	}
	if err := atomicfile.Write(filepath.Join(dir, KeyFile), func(w io.Writer) error {
		_, err := w.Write(append(js, '\n'))
		return err
	}); err != nil {
		return nil, fmt.Errorf("selectivity: set %s: %w", set.Name, err)
	}
	return rec, nil
}

// NewKey computes the cache key Record uses for m, set and pre. It reads
// every image of the set (for its hash) and every parameter of m.
func NewKey(m *nn.Model, set *stimuli.Set, pre imagenet.Config, cfg RecordConfig) (Key, error) {
	sh, err := set.Hash()
	if err != nil {
		return Key{}, fmt.Errorf("selectivity: set %s: %w", set.Name, err)
	}
	k := Key{
		Format:  keyFormat,
		Arch:    m.Arch,
		Weights: cfg.Weights,
		Params:  ParamsHash(m),
		SetHash: sh,
		Images:  len(set.Images),
		Resize:  describePre(pre),
	}
	if k.Weights == "" {
		k.Weights = "random"
		s := cfg.Seed
		k.Seed = &s
	}
	for _, u := range m.ConvUnits() {
		k.Units = append(k.Units, UnitShape{u.Name, u.Channels})
	}
	return k, nil
}

// describePre spells out the preprocessing with its defaults resolved.
func describePre(pre imagenet.Config) string {
	size := pre.Size
	if size == 0 {
		size = imagenet.DefaultSize
	}
	if pre.Mode == imagenet.Squash {
		return fmt.Sprintf("%v %d", pre.Mode, size)
	}
	resize := pre.Resize
	if resize == 0 {
		resize = size * 256 / imagenet.DefaultSize
	}
	return fmt.Sprintf("%v %d from %d", pre.Mode, size, resize)
}

// ParamsHash returns the hex SHA-256 of m's layer list (Net.String), every
// parameter in key order (key, shape and little-endian float32 bytes) and
// every ReLU gain that is set: what, with the input, determines the
// recorded responses.
func ParamsHash(m *nn.Model) string {
	h := sha256.New()
	io.WriteString(h, "emosel/selectivity/params/v1\n")
	io.WriteString(h, m.Arch+"\n")
	io.WriteString(h, m.Net.String()+"\n")
	sd := m.StateDict()
	buf := make([]byte, 0, 64<<10)
	for _, k := range sd.Keys() {
		t := sd[k]
		fmt.Fprintf(h, "%s %v\n", k, t.Shape())
		hashFloats(h, t.Data(), buf)
	}
	if m.Graph != nil {
		for _, u := range m.Units {
			if r := m.ReLUOf(u.Name); r.Gain != nil {
				fmt.Fprintf(h, "gain %s\n", u.Name)
				hashFloats(h, r.Gain, buf)
			}
		}
	}
	for i := range m.Net.Len() {
		if r, ok := m.Net.Layer(i).(*nn.ReLU); ok && r.Gain != nil {
			fmt.Fprintf(h, "gain %d\n", i)
			hashFloats(h, r.Gain, buf)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashFloats(h hash.Hash, data []float32, buf []byte) {
	for len(data) > 0 {
		n := min(len(data), cap(buf)/4)
		b := buf[:0]
		for _, v := range data[:n] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		h.Write(b)
		data = data[n:]
	}
}

// validCache reports whether dir holds a complete recording for key.
func validCache(dir string, key Key) bool {
	raw, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return false
	}
	var c keyFileContent
	if err := json.Unmarshal(raw, &c); err != nil || !c.Key.equal(key) || len(c.Files) != len(key.Units) {
		return false
	}
	for i, u := range key.Units {
		want := c.Files[i]
		if want.Name != u.Name+".npy" {
			return false
		}
		got, err := describeFile(filepath.Join(dir, want.Name))
		if err != nil || got != want {
			return false
		}
	}
	return true
}

// describeFile returns a file's name, size and SHA-256.
func describeFile(path string) (cacheFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return cacheFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return cacheFile{}, fmt.Errorf("%s: %w", path, err)
	}
	return cacheFile{Name: filepath.Base(path), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// recorder streams the conv units' means of successive batches to
// dir/<unit>.npy through m's recording hooks.
type recorder struct {
	m     *nn.Model
	units []nn.Unit
	rows  map[string]*npy.Rows
	err   error
}

// newRecorder creates the arrays for n images and installs the hooks.
func newRecorder(m *nn.Model, dir string, n int) (*recorder, error) {
	r := &recorder{m: m, units: m.ConvUnits(), rows: map[string]*npy.Rows{}}
	for _, u := range r.units {
		rows, err := npy.CreateRows(filepath.Join(dir, u.Name+".npy"), n, u.Channels)
		if err != nil {
			r.abort()
			return nil, err
		}
		r.rows[u.Name] = rows
	}
	m.Record(func(unit string, means *tensor.Tensor) {
		if rows, ok := r.rows[unit]; ok && r.err == nil {
			r.err = rows.Append(means)
		}
	})
	return r, nil
}

// forward runs one batch [B,3,S,S] and appends its B rows to every array.
func (r *recorder) forward(x *tensor.Tensor) error {
	r.m.Forward(x)
	return r.err
}

// commit removes the hooks and renames every complete array into place.
func (r *recorder) commit() error {
	r.m.Record(nil)
	for _, u := range r.units {
		rows := r.rows[u.Name]
		delete(r.rows, u.Name)
		if err := rows.Commit(); err != nil {
			r.abort()
			return err
		}
	}
	return nil
}

// abort removes the hooks and every array not yet committed.
func (r *recorder) abort() {
	r.m.Record(nil)
	for name, rows := range r.rows {
		rows.Abort()
		delete(r.rows, name)
	}
}

// stream runs the forward passes and writes the arrays.
func stream(ctx context.Context, m *nn.Model, set *stimuli.Set, pre imagenet.Config, dir string, cfg RecordConfig) error {
	n := len(set.Images)
	rec, err := newRecorder(m, dir, n)
	if err != nil {
		return fmt.Errorf("selectivity: set %s: %w", set.Name, err)
	}
	defer rec.abort()
	size := pre.Size
	if size == 0 {
		size = imagenet.DefaultSize
	}
	per := 3 * size * size
	if cfg.Progress != nil {
		cfg.Progress(0, n)
	}
	var x *tensor.Tensor
	for i := 0; i < n; i += cfg.Batch {
		j := min(i+cfg.Batch, n)
		if x == nil || x.Dim(0) != j-i {
			x = tensor.New(j-i, 3, size, size)
		}
		for k := i; k < j; k++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			g, err := readGray(set, k)
			if err != nil {
				return err
			}
			imagenet.NormalizeInto(x.Data()[(k-i)*per:(k-i+1)*per], pre.Fit(g))
		}
		if err := rec.forward(x); err != nil {
			return fmt.Errorf("selectivity: set %s: %w", set.Name, err)
		}
		if cfg.Progress != nil {
			cfg.Progress(j, n)
		}
	}
	if err := rec.commit(); err != nil {
		return fmt.Errorf("selectivity: set %s: %w", set.Name, err)
	}
	return nil
}

// readGray decodes image k of set as PIL's convert("L") does; errors name
// the set and the image file.
func readGray(set *stimuli.Set, k int) (g *image.Gray, err error) {
	im := set.Images[k]
	where := im.Path
	if where == "" {
		where = im.File
	}
	rc, err := set.Open(k)
	if err != nil {
		return nil, fmt.Errorf("selectivity: set %s: image %s: %w", set.Name, where, err)
	}
	g, err = imagenet.ReadGray(rc)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("selectivity: set %s: image %s: %w", set.Name, where, err)
	}
	return g, nil
}

// writeImages writes dir/images.csv for set unless it already holds
// exactly that content.
func writeImages(dir string, set *stimuli.Set) error {
	var b bytes.Buffer
	if err := WriteImages(&b, set); err != nil {
		return err
	}
	path := filepath.Join(dir, ImagesFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b.Bytes()) {
		return nil
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err }); err != nil {
		return fmt.Errorf("selectivity: set %s: %w", set.Name, err)
	}
	return nil
}

// WriteImages writes the CSV index of a set's images: the header
// row,file,valence,category and one line per image in set order (the rows
// of every recorded array). Valences are written in the shortest form that
// reads back exactly.
func WriteImages(w io.Writer, set *stimuli.Set) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"row", "file", "valence", "category"})
	for i, im := range set.Images {
		cw.Write([]string{strconv.Itoa(i), im.File, formatFloat(im.Valence), im.Category.String()})
	}
	cw.Flush()
	return cw.Error()
}

// Responses reads the recorded arrays back: one [images, channels] tensor
// per unit in forward order, checked against the key.
func (r *Recording) Responses() (*Responses, error) {
	out := &Responses{Set: r.Set}
	for _, u := range r.Key.Units {
		path := filepath.Join(r.Dir, u.Name+".npy")
		t, err := npy.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("selectivity: set %s: %w", r.Set.Name, err)
		}
		if !t.HasShape(r.Key.Images, u.Channels) {
			return nil, fmt.Errorf("selectivity: set %s: %s is %v, want [%d %d]", r.Set.Name, path, t.Shape(), r.Key.Images, u.Channels)
		}
		out.Units = append(out.Units, u.Name)
		out.Resp = append(out.Resp, t)
	}
	return out, nil
}
