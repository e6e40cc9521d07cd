package study

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// FromSet returns a loaded stimulus set, preprocessed by pre, as a study
// Set: its emotion Labels and its design's Classes (which a study under
// a K-category design reads); its Hash is the set's content hash
// (stimuli.Set.Hash).
func FromSet(set *stimuli.Set, pre imagenet.Config) (Set, error) {
	h, err := set.Hash()
	if err != nil {
		return Set{}, err
	}
	return Set{Name: set.Name, Images: SetImages(set, pre), Labels: set.Labels(), Classes: set.ClassLabels(), Hash: h}, nil
}

// SetImages returns set's images, decoded and preprocessed by pre
// (grey, resized, normalised; imagenet.Config.Read). Each image is
// decoded once: its resized grey picture (S×S bytes, 49 KiB at 224 px, so
// 108 MiB for the paper's 2 × 1,100 images) is kept and normalised again
// on each Load, which gives the same bits as decoding it again. (Each
// unit of the lesion, sweep and threshold stages loads its split's images;
// decoding them each time cost about a quarter of the scaled study's lesion
// stage, and was not in -estimate's prediction.)
func SetImages(set *stimuli.Set, pre imagenet.Config) manipulate.Images {
	size := pre.Size
	if size == 0 {
		size = imagenet.DefaultSize
	}
	return &setImages{set: set, pre: pre, size: size, fit: make([]*image.Gray, len(set.Images))}
}

type setImages struct {
	set  *stimuli.Set
	pre  imagenet.Config
	size int
	mu   sync.Mutex
	fit  []*image.Gray // the decoded, resized pictures; nil until first loaded
}

func (s *setImages) Len() int     { return len(s.set.Images) }
func (s *setImages) Shape() []int { return []int{3, s.size, s.size} }

func (s *setImages) Load(ctx context.Context, idx []int) (*tensor.Tensor, error) {
	out := tensor.New(len(idx), 3, s.size, s.size)
	per := 3 * s.size * s.size
	for i, k := range idx {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g, err := s.picture(k)
		if err != nil {
			return nil, err
		}
		imagenet.NormalizeInto(out.Data()[i*per:(i+1)*per], g)
	}
	return out, nil
}

// picture returns image k decoded, in grey and resized (Config.Fit).
func (s *setImages) picture(k int) (*image.Gray, error) {
	s.mu.Lock()
	g := s.fit[k]
	s.mu.Unlock()
	if g != nil {
		return g, nil
	}
	name := s.set.Images[k].File
	r, err := s.set.Open(k)
	if err != nil {
		return nil, err
	}
	g, err = imagenet.ReadGray(r)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: image %s: %w", s.set.Name, name, err)
	}
	g = s.pre.Fit(g)
	if b := g.Bounds(); b.Dx() != s.size || b.Dy() != s.size {
		return nil, fmt.Errorf("%s: image %s is %d×%d after resizing, want %d×%d", s.set.Name, name, b.Dx(), b.Dy(), s.size, s.size)
	}
	s.mu.Lock()
	s.fit[k] = g
	s.mu.Unlock()
	return g, nil
}

// ParamsID identifies a model's weights: its architecture and the SHA-256
// (first 24 hex digits) of every parameter, keys in sorted order, with
// their shapes and float32 bits.
func ParamsID(m *nn.Model) string {
	sd := m.StateDict()
	keys := make([]string, 0, len(sd))
	for k := range sd {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	buf := make([]byte, 0, 1<<16)
	for _, k := range keys {
		t := sd[k]
		h.Write([]byte(k))
		for _, d := range t.Shape() {
			h.Write(binary.LittleEndian.AppendUint64(nil, uint64(d)))
		}
		for _, v := range t.Data() {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		h.Write(buf)
		buf = buf[:0]
	}
	return m.Arch + " sha256:" + hex.EncodeToString(h.Sum(nil))[:24]
}
