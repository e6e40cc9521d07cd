package study

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// FromSet returns a loaded stimulus set, preprocessed by pre, as a study
// Set; its Hash is the set's content hash (stimuli.Set.Hash).
func FromSet(set *stimuli.Set, pre imagenet.Config) (Set, error) {
	h, err := set.Hash()
	if err != nil {
		return Set{}, err
	}
	return Set{Name: set.Name, Images: SetImages(set, pre), Labels: set.Labels(), Hash: h}, nil
}

// SetImages returns set's images, decoded and preprocessed by pre
// (grey, resized, normalised; imagenet.Config.Read) on each Load.
func SetImages(set *stimuli.Set, pre imagenet.Config) manipulate.Images {
	size := pre.Size
	if size == 0 {
		size = imagenet.DefaultSize
	}
	return setImages{set: set, pre: pre, size: size}
}

type setImages struct {
	set  *stimuli.Set
	pre  imagenet.Config
	size int
}

func (s setImages) Len() int     { return len(s.set.Images) }
func (s setImages) Shape() []int { return []int{3, s.size, s.size} }

func (s setImages) Load(ctx context.Context, idx []int) (*tensor.Tensor, error) {
	out := tensor.New(len(idx), 3, s.size, s.size)
	per := 3 * s.size * s.size
	for i, k := range idx {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := s.set.Open(k)
		if err != nil {
			return nil, err
		}
		x, err := s.pre.Read(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: image %s: %w", s.set.Name, s.set.Images[k].File, err)
		}
		if x.Len() != per {
			return nil, fmt.Errorf("%s: image %s has shape %v, want [1 3 %d %d]", s.set.Name, s.set.Images[k].File, x.Shape(), s.size, s.size)
		}
		copy(out.Data()[i*per:(i+1)*per], x.Data())
	}
	return out, nil
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
