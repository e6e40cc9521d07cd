//go:build purego || !amd64

package simd

import "unsafe"

// packStrips16 copies kc rows of strips×16 floats of B into strips; on
// amd64 it is in assembly.
func packStrips16(dst, src *float32, kc, ld, strips int) {
	if kc <= 0 || strips <= 0 {
		return
	}
	d := unsafe.Slice(dst, strips*kc*16)
	s := unsafe.Slice(src, (kc-1)*ld+strips*16)
	for p := 0; p < kc; p++ {
		row := s[p*ld : p*ld+strips*16]
		for j := 0; j < strips; j++ {
			copy(d[j*kc*16+p*16:j*kc*16+p*16+16], row[j*16:j*16+16])
		}
	}
}

// prefetchRows is a no-op without assembly.
func prefetchRows(p *float32, rows, ld, n int) {}

// packTrans16 packs kc4 rows of one 16-column strip from a transposed B;
// on amd64 it is in assembly.
func packTrans16(dst, src *float32, kc4, ld int) {
	if kc4 <= 0 {
		return
	}
	d := unsafe.Slice(dst, kc4*16)
	s := unsafe.Slice(src, 15*ld+kc4)
	for q := 0; q < 16; q++ {
		col := s[q*ld : q*ld+kc4]
		for p, v := range col {
			d[p*16+q] = v
		}
	}
}
