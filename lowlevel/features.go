package lowlevel

import (
	"fmt"
	"image"
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Config sets the filter bank. The zero value is GIST's layout: 4 scales,
// 8 orientations, pooled on a 4×4 grid (512 Gabor energies).
type Config struct {
	Scales       int // 0 means 4
	Orientations int // 0 means 8
	Grid         int // cells per side of the pooling grid; 0 means 4
}

// withDefaults resolves the zero fields and panics on negative ones.
func (c Config) withDefaults() Config {
	if c.Scales < 0 || c.Orientations < 0 || c.Grid < 0 {
		panic(fmt.Sprintf("lowlevel: bad Config %+v", c))
	}
	if c.Scales == 0 {
		c.Scales = 4
	}
	if c.Orientations == 0 {
		c.Orientations = 8
	}
	if c.Grid == 0 {
		c.Grid = 4
	}
	return c
}

// Filter-bank constants: the finest scale's peak frequency (cycles per
// pixel), the log-Gabor radial bandwidth σ (in ln units, about 1.9
// octaves at half height) and the angular σ as a fraction of the spacing
// between orientations.
const (
	peakFrequency = 0.25
	radialSigma   = 0.55
	angularSigma  = 0.6
)

// bands returns the number of octave bands of the power spectrum of an
// n×n image: [1, 2), [2, 4), … cycles per image, the last one ending at
// n/2.
func bands(n int) int {
	k := 0
	for lo := 1; lo < n/2; lo *= 2 {
		k++
	}
	return k
}

// Names returns the feature names for n×n images, in the order Features
// writes them: gabor_s<scale>_o<orientation>_<row>_<col> (scale 0 the
// finest, orientation o at angle o·180°/Orientations from horizontal
// frequency, i.e. vertical stripes first), then luminance, rms_contrast,
// spectrum_slope, spectrum_intercept and band_<lo>_<hi> (fraction of the
// power from lo to hi cycles per image).
func (c Config) Names(n int) []string {
	c = c.withDefaults()
	var out []string
	for s := range c.Scales {
		for o := range c.Orientations {
			for gy := range c.Grid {
				for gx := range c.Grid {
					out = append(out, fmt.Sprintf("gabor_s%d_o%d_%d_%d", s, o, gy, gx))
				}
			}
		}
	}
	out = append(out, "luminance", "rms_contrast", "spectrum_slope", "spectrum_intercept")
	lo := 1
	for range bands(n) {
		hi := min(2*lo, n/2)
		out = append(out, fmt.Sprintf("band_%d_%d", lo, hi))
		lo *= 2
	}
	return out
}

// Len returns the number of features of an n×n image.
func (c Config) Len(n int) int {
	c = c.withDefaults()
	return c.Scales*c.Orientations*c.Grid*c.Grid + 4 + bands(n)
}

// Bank is a filter bank built for one image size. It is safe for
// concurrent use by several goroutines only through separate Banks (it
// owns FFT work space).
type Bank struct {
	cfg    Config
	n      int
	filter [][]float64 // [scale*orientations+o][v*n+u] transfer functions
	fft    *fourier.CmplxFFT
	f, g   []complex128 // spectrum, filtered
	row    []complex128
	col    []complex128
	cell   []int // grid cell of each pixel index (row*grid+col)
	cellN  []int // pixels per cell
}

// freq returns the signed frequency of DFT index k of length n, in cycles
// per pixel: k/n for k ≤ n/2, (k−n)/n above.
func freq(k, n int) float64 {
	if k <= n/2 {
		return float64(k) / float64(n)
	}
	return float64(k-n) / float64(n)
}

// Transfer returns the filter bank's transfer function for scale s and
// orientation o at the frequency (fx, fy) in cycles per pixel: a log-Gabor
// radial profile exp(−ln²(f/f_s)/(2σ_r²)) with f_s = 0.25/2^s, times an
// angular Gaussian exp(−Δθ²/(2σ_θ²)) around θ_o = o·π/O with Δθ wrapped
// to (−π, π] and σ_θ = 0.6·π/O. It is one-sided in angle, so the filtered
// image is complex (a quadrature pair) and its modulus is the local
// energy. It is 0 at f = 0.
func (c Config) Transfer(s, o int, fx, fy float64) float64 {
	c = c.withDefaults()
	f := math.Hypot(fx, fy)
	if f == 0 {
		return 0
	}
	fs := peakFrequency / math.Exp2(float64(s))
	lr := math.Log(f / fs)
	theta := math.Atan2(fy, fx)
	d := theta - float64(o)*math.Pi/float64(c.Orientations)
	d = math.Remainder(d, 2*math.Pi)
	st := angularSigma * math.Pi / float64(c.Orientations)
	return math.Exp(-lr*lr/(2*radialSigma*radialSigma)) * math.Exp(-d*d/(2*st*st))
}

// NewBank builds the filter bank for n×n images. It panics if n < 8.
func (c Config) NewBank(n int) *Bank {
	c = c.withDefaults()
	if n < 8 {
		panic(fmt.Sprintf("lowlevel: image size %d is below 8", n))
	}
	b := &Bank{cfg: c, n: n, fft: fourier.NewCmplxFFT(n),
		f: make([]complex128, n*n), g: make([]complex128, n*n),
		row: make([]complex128, n), col: make([]complex128, n),
		cell: make([]int, n*n), cellN: make([]int, c.Grid*c.Grid)}
	for s := range c.Scales {
		for o := range c.Orientations {
			h := make([]float64, n*n)
			for v := range n {
				for u := range n {
					h[v*n+u] = c.Transfer(s, o, freq(u, n), freq(v, n))
				}
			}
			b.filter = append(b.filter, h)
		}
	}
	for y := range n {
		for x := range n {
			k := (y*c.Grid/n)*c.Grid + x*c.Grid/n
			b.cell[y*n+x] = k
			b.cellN[k]++
		}
	}
	return b
}

// fft2 transforms a in place (n×n, row-major): forward when inverse is
// false, else the unnormalised inverse.
func (b *Bank) fft2(a []complex128, inverse bool) {
	n := b.n
	do := b.fft.Coefficients
	if inverse {
		do = b.fft.Sequence
	}
	for y := range n {
		copy(b.row, a[y*n:(y+1)*n])
		do(a[y*n:(y+1)*n], b.row)
	}
	for x := range n {
		for y := range n {
			b.col[y] = a[y*n+x]
		}
		do(b.col, b.col)
		for y := range n {
			a[y*n+x] = b.col[y]
		}
	}
}

// Features returns the low-level features of g, an n×n grey image (the
// network's input before normalisation, imagenet.Config.Fit), with
// pixels scaled to [0, 1]:
//
//   - Gabor energies: for each scale and orientation, the modulus of the
//     filtered image (inverse DFT of the image's DFT times Transfer),
//     averaged over each cell of a Grid×Grid grid (GIST's pooling);
//     cell (r, c) holds rows ⌊y·Grid/n⌋ = r and columns ⌊x·Grid/n⌋ = c.
//     The mean is removed first; there is no further prefiltering.
//   - luminance: mean pixel value; rms_contrast: its population SD.
//   - spectrum_slope and spectrum_intercept: least-squares line of
//     log10 P(f) on log10 f over the integer radial frequencies
//     f = 1 … ⌊n/2⌋ cycles per image, where P(f) is the mean power
//     |DFT|² of the mean-removed image over the frequencies with
//     round(|(u, v)|) = f; about −2 for natural images.
//   - band fractions: the share of the power with |(u, v)| in [lo, hi)
//     cycles per image, octave bands from 1 up to n/2 (the last band
//     includes n/2), over the power at 1 ≤ |(u, v)| ≤ n/2.
//
// It panics if g is not n×n for the Bank's n.
func (b *Bank) Features(g *image.Gray) []float64 {
	n := b.n
	r := g.Bounds()
	if r.Dx() != n || r.Dy() != n {
		panic(fmt.Sprintf("lowlevel: image is %dx%d, the bank is for %dx%d", r.Dx(), r.Dy(), n, n))
	}
	px := make([]float64, n*n)
	mean := 0.0
	for y := range n {
		o := g.PixOffset(r.Min.X, r.Min.Y+y)
		row := g.Pix[o : o+n]
		for x, v := range row {
			px[y*n+x] = float64(v) / 255
			mean += float64(v) / 255
		}
	}
	mean /= float64(n * n)
	ss := 0.0
	for i, v := range px {
		d := v - mean
		ss += d * d
		b.f[i] = complex(d, 0)
	}
	b.fft2(b.f, false)

	cfg := b.cfg
	out := make([]float64, 0, cfg.Len(n))
	norm := 1 / float64(n*n)
	for _, h := range b.filter {
		for i, v := range b.f {
			b.g[i] = v * complex(h[i]*norm, 0)
		}
		b.fft2(b.g, true)
		sum := make([]float64, cfg.Grid*cfg.Grid)
		for i, v := range b.g {
			sum[b.cell[i]] += cmplx.Abs(v)
		}
		for k, s := range sum {
			out = append(out, s/float64(b.cellN[k]))
		}
	}
	out = append(out, mean, math.Sqrt(ss/float64(n*n)))
	slope, icept, bandFrac := spectrum(b.f, n)
	out = append(out, slope, icept)
	return append(out, bandFrac...)
}

// spectrum computes the radial statistics of the DFT f of an n×n image
// (see Features).
func spectrum(f []complex128, n int) (slope, intercept float64, band []float64) {
	half := n / 2
	sum := make([]float64, half+1)
	cnt := make([]int, half+1)
	nb := bands(n)
	band = make([]float64, nb)
	total := 0.0
	for v := range n {
		for u := range n {
			fr := math.Hypot(float64(freqIndex(u, n)), float64(freqIndex(v, n)))
			p := real(f[v*n+u])*real(f[v*n+u]) + imag(f[v*n+u])*imag(f[v*n+u])
			if k := int(math.Round(fr)); k >= 1 && k <= half {
				sum[k] += p
				cnt[k]++
			}
			if fr >= 1 && fr <= float64(half) {
				total += p
				j := min(int(math.Floor(math.Log2(fr))), nb-1)
				band[j] += p
			}
		}
	}
	if total > 0 {
		for j := range band {
			band[j] /= total
		}
	}
	// Least squares of log10 P on log10 f over the bins with power.
	var xs, ys []float64
	for k := 1; k <= half; k++ {
		if cnt[k] > 0 && sum[k] > 0 {
			xs = append(xs, math.Log10(float64(k)))
			ys = append(ys, math.Log10(sum[k]/float64(cnt[k])))
		}
	}
	if len(xs) < 2 {
		return math.NaN(), math.NaN(), band
	}
	mx, my := 0.0, 0.0
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(xs))
	sxy, sxx := 0.0, 0.0
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	slope = sxy / sxx
	return slope, my - slope*mx, band
}

// freqIndex is the signed DFT index: k for k ≤ n/2, k − n above.
func freqIndex(k, n int) int {
	if k <= n/2 {
		return k
	}
	return k - n
}
