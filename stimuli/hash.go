package stimuli

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// Hash returns a hex SHA-256 that identifies the set's content: the raw
// ratings file and, in order, each kept image's file name and bytes. It is
// meant as a cache key for activations. It does not cover the thresholds or
// Config, which change labels but not what the network sees; an in-memory
// Synthetic set and the same set written by WriteSynthetic and loaded back
// hash alike. Hash reads every image once (SHA-256 runs at well over
// 1 GB/s, so a 1,000-image set costs a fraction of a second beyond I/O).
func (s *Set) Hash() (string, error) {
	h := sha256.New()
	io.WriteString(h, "emosel/stimuli/v1\n")
	writeBytes(h, s.ratings)
	for i, im := range s.Images {
		writeBytes(h, []byte(im.File))
		rc, err := s.Open(i)
		if err != nil {
			return "", err
		}
		ih := sha256.New()
		_, err = io.Copy(ih, rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("stimuli: hash %s: %w", im.Path, err)
		}
		h.Write(ih.Sum(nil))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeBytes writes b length-prefixed, so concatenations cannot collide.
func writeBytes(h hash.Hash, b []byte) {
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(b))))
	h.Write(b)
}
