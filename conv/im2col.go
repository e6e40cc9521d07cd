package conv

// im2col is the simd.BPacker for one image: the virtual matrix
// B [C·KH·KW, OH·OW] with B[k, j] = x[c, oh·SH + kh·DH − PH, ow·SW + kw·DW − PW]
// for k = (c·KH + kh)·KW + kw and j = oh·OW + ow, and 0 where that index
// falls in the padding. It only reads shared state, so the GEMM may call
// PackB from several goroutines at once.
type im2col struct {
	x      []float32 // the image [C,H,W]
	rows   []rowOff
	plane  int // H·W
	h, w   int // input height and row length as addressed
	ow     int // output row length as addressed
	sh, sw int
}

// newIm2col returns the packer for image x [C,H,W] (output OH×OW).
// A 1×1, stride-1, unpadded filter reads the image as one long row, so
// every panel row is a single contiguous copy.
func newIm2col(f *Filter, x []float32, h, w, oh, ow int) *im2col {
	b := &im2col{x: x, rows: f.rows, plane: h * w, h: h, w: w, ow: ow,
		sh: f.p.Stride[0], sw: f.p.Stride[1]}
	if f.kh == 1 && f.kw == 1 && b.sh == 1 && b.sw == 1 && f.p.Pad == [2]int{} {
		b.h, b.w, b.ow = 1, h*w, oh*ow
	}
	return b
}

// PackB implements simd.BPacker: it writes rows k0..k0+kc-1 and columns
// j0..j0+nc-1 of B into dst as strips of nr columns (the last one
// zero-padded), strip s at dst[s·kc·nr:], row p of a strip at p·nr.
//
// The columns are cut into segments that stay within one output row.
// Within a segment, each row of B reads an arithmetic progression of one
// input row, so the padding test is done once per row and segment (not
// per element), and the stride-1 interior is a run of contiguous copies,
// one per strip crossed.
func (b *im2col) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	clearTail(dst, kc, nc, nr)
	b.pack(dst, b.x, k0, kc, j0, nc, nr, 0)
}

// clearTail zeroes the columns past nc of the last strip of a packed B
// panel of kc rows.
func clearTail(dst []float32, kc, nc, nr int) {
	if rem := nc % nr; rem != 0 {
		stride := kc * nr
		last := dst[nc/nr*stride : (nc/nr+1)*stride]
		for p := 0; p < kc; p++ {
			clear(last[p*nr+rem : (p+1)*nr])
		}
	}
}

// pack writes columns j0..j0+nc-1 of image x's B into the packed panel
// from panel column c0 on (PackB without the tail, at an offset).
func (b *im2col) pack(dst, x []float32, k0, kc, j0, nc, nr, c0 int) {
	rows := b.rows[k0 : k0+kc]
	stride := kc * nr // distance between strips
	oh, ow := j0/b.ow, j0%b.ow
	for c := c0; c < c0+nc; {
		n := min(c0+nc-c, b.ow-ow)
		b.segment(dst, x, rows, c/nr, c%nr, n, nr, stride, oh*b.sh, ow*b.sw)
		c += n
		ow = 0
		oh++
	}
}

// batchIm2col is the simd.BPacker of a whole batch: the images' im2col
// matrices side by side, B [C·KH·KW, N·OH·OW], column i·OH·OW + j being
// column j of image i.
type batchIm2col struct {
	im2col
	src      []float32 // the batch [N,C,H,W]
	img, ohw int       // C·H·W and OH·OW
}

// PackB implements simd.BPacker.
func (b *batchIm2col) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	clearTail(dst, kc, nc, nr)
	for c := 0; c < nc; {
		i, j := (j0+c)/b.ohw, (j0+c)%b.ohw
		m := min(nc-c, b.ohw-j)
		b.pack(dst, b.src[i*b.img:(i+1)*b.img], k0, kc, j, m, nr, c)
		c += m
	}
}

// segment fills n columns, starting at column q of strip s, for every row,
// for n consecutive output pixels of one output row whose windows start
// at input (ih0, iw0) of image x.
func (b *im2col) segment(dst, x []float32, rows []rowOff, s, q, n, nr, stride, ih0, iw0 int) {
	h, w, sw, plane := b.h, b.w, b.sw, b.plane
	for p, r := range rows {
		c := cursor{off: s*stride + p*nr + q, room: nr - q}
		ih := ih0 + int(r.dh)
		if uint(ih) >= uint(h) {
			c.zeros(dst, n, nr, stride)
			continue
		}
		row := x[int(r.c)*plane+ih*w : int(r.c)*plane+(ih+1)*w]
		iw := iw0 + int(r.dw)
		// Columns t in [lo, hi) read row[iw + t·sw]; the rest are padding.
		lo, hi := 0, n
		if iw < 0 {
			lo = min(n, (-iw+sw-1)/sw)
		}
		if iw+(n-1)*sw >= w {
			hi = 0
			if iw < w {
				hi = (w-1-iw)/sw + 1
			}
			hi = max(hi, lo)
		}
		if lo > 0 {
			c.zeros(dst, lo, nr, stride)
		}
		switch {
		case hi == lo:
		case sw == 1:
			c.copy(dst, row[iw+lo:iw+hi], nr, stride)
		default:
			c.gather(dst, row, iw+lo*sw, sw, hi-lo, nr, stride)
		}
		if hi < n {
			c.zeros(dst, n-hi, nr, stride)
		}
	}
}

// cursor walks the positions of one row of B across strips: dst[off] is
// the next position, room values remain in the current strip, and the
// next strip's row starts stride−nr values after the current one ends.
type cursor struct{ off, room int }

// zeros writes n zeros.
func (c *cursor) zeros(dst []float32, n, nr, stride int) {
	for n > 0 {
		m := min(n, c.room)
		clear(dst[c.off : c.off+m])
		n -= m
		c.off += m
		if c.room -= m; c.room == 0 {
			c.off += stride - nr
			c.room = nr
		}
	}
}

// copy writes src. Whole strips of the common widths are copied by
// unrolled assignments: for 4–16 values they beat a memmove call.
func (c *cursor) copy(dst, src []float32, nr, stride int) {
	if c.room < nr { // finish the current strip
		m := min(len(src), c.room)
		copy(dst[c.off:c.off+m], src[:m])
		src = src[m:]
		c.off += m
		if c.room -= m; c.room > 0 {
			return
		}
		c.off += stride - nr
		c.room = nr
	}
	off := c.off
	switch nr {
	case 4:
		for ; len(src) >= 4; src = src[4:] {
			d, s := dst[off:off+4:off+4], src[:4:4]
			d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
			off += stride
		}
	case 8:
		for ; len(src) >= 8; src = src[8:] {
			d, s := dst[off:off+8:off+8], src[:8:8]
			d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
			d[4], d[5], d[6], d[7] = s[4], s[5], s[6], s[7]
			off += stride
		}
	case 16:
		for ; len(src) >= 16; src = src[16:] {
			d, s := dst[off:off+16:off+16], src[:16:16]
			d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
			d[4], d[5], d[6], d[7] = s[4], s[5], s[6], s[7]
			d[8], d[9], d[10], d[11] = s[8], s[9], s[10], s[11]
			d[12], d[13], d[14], d[15] = s[12], s[13], s[14], s[15]
			off += stride
		}
	default:
		for ; len(src) >= nr; src = src[nr:] {
			copy(dst[off:off+nr], src[:nr])
			off += stride
		}
	}
	c.off, c.room = off, nr
	if len(src) > 0 {
		copy(dst[off:off+len(src)], src)
		c.off += len(src)
		c.room -= len(src)
	}
}

// gather writes n values row[i], row[i+step], ….
func (c *cursor) gather(dst, row []float32, i, step, n, nr, stride int) {
	if step == 2 && nr == 16 && n >= 16 {
		// The stride-2 convolutions (ResNet's stem, 3×3 and 1×1
		// downsamples): whole strips by unrolled assignments, which with
		// fixed-size slices need no per-value bounds check or multiply.
		if c.room < nr {
			m := c.room
			c.gatherAny(dst, row, i, step, m, nr, stride)
			i += m * step
			n -= m
		}
		off := c.off
		for ; n >= 16; n -= 16 {
			d, s := dst[off:off+16:off+16], row[i:i+31:i+31]
			d[0], d[1], d[2], d[3] = s[0], s[2], s[4], s[6]
			d[4], d[5], d[6], d[7] = s[8], s[10], s[12], s[14]
			d[8], d[9], d[10], d[11] = s[16], s[18], s[20], s[22]
			d[12], d[13], d[14], d[15] = s[24], s[26], s[28], s[30]
			i += 32
			off += stride
		}
		c.off = off
	}
	c.gatherAny(dst, row, i, step, n, nr, stride)
}

// gatherAny is gather for any step and width.
func (c *cursor) gatherAny(dst, row []float32, i, step, n, nr, stride int) {
	for n > 0 {
		m := min(n, c.room)
		d := dst[c.off : c.off+m]
		s := row[i : i+(m-1)*step+1]
		for t := range d {
			d[t] = s[t*step]
		}
		i += m * step
		n -= m
		c.off += m
		if c.room -= m; c.room == 0 {
			c.off += stride - nr
			c.room = nr
		}
	}
}
