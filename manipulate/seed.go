package manipulate

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/emosel/emosel/tensor"
)

// Derive returns a seed for one named part of a study: FNV-1a over seed
// and the key strings. Parts of a study seeded this way do not depend on
// which other parts run, or in which order, so shards agree.
func Derive(seed uint64, key ...string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, k := range key {
		h.Write([]byte{0})
		h.Write([]byte(k))
	}
	return h.Sum64()
}

// Draw returns n distinct channels of channels, chosen uniformly at random
// from tensor.NewRNG(seed) (the first n of a Perm), in ascending order.
// It panics if n is outside [0, channels].
func Draw(seed uint64, channels, n int) []int {
	if n < 0 || n > channels {
		panic(fmt.Sprintf("manipulate: cannot draw %d of %d channels", n, channels))
	}
	d := slices.Clone(tensor.NewRNG(seed).Perm(channels)[:n])
	slices.Sort(d)
	return d
}
