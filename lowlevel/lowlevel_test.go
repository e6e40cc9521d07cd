package lowlevel

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/stimuli"
)

// TestFitLogisticAgainstScipy compares the Newton fit with the minimiser
// scipy.optimize found (testdata/gen/lowlevel_gen.py, trust-exact,
// gradient below 1e-10).
func TestFitLogisticAgainstScipy(t *testing.T) {
	raw, err := os.ReadFile("testdata/logistic.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Cases []struct {
			Name      string      `json:"name"`
			Lambda    float64     `json:"lambda"`
			X         [][]float64 `json:"x"`
			Y         []bool      `json:"y"`
			W         []float64   `json:"w"`
			B         float64     `json:"b"`
			Objective float64     `json:"objective"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) < 4 {
		t.Fatalf("%d cases in the fixture", len(fx.Cases))
	}
	for _, c := range fx.Cases {
		m, err := FitLogistic(c.X, c.Y, c.Lambda)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		worst, at := math.Abs(m.B-c.B), -1
		for j, w := range c.W {
			if d := math.Abs(m.W[j] - w); d > worst {
				worst, at = d, j
			}
		}
		// The minimiser is unique; both sides stop with gradients below
		// 1e-10, so the coefficients agree to about that over the
		// Hessian's smallest eigenvalue (at least λ).
		scale := 1.0
		for _, w := range c.W {
			scale = max(scale, math.Abs(w))
		}
		if worst > 1e-6*scale {
			t.Errorf("%s: worst coefficient %d differs by %.3g (Newton %d iterations)", c.Name, at, worst, m.Iters)
		}
		t.Logf("%s: %d rows, %d features, λ %g: worst |Δw| %.2g, %d iterations", c.Name, len(c.X), len(c.W), c.Lambda, worst, m.Iters)
	}
}

// naiveFeatures computes Bank.Features by the definitions, with O(n⁴)
// DFTs written as sums.
func naiveFeatures(cfg Config, g *image.Gray) []float64 {
	cfg = cfg.withDefaults()
	n := g.Bounds().Dx()
	px := make([]float64, n*n)
	mean := 0.0
	for i := range px {
		px[i] = float64(g.Pix[i]) / 255
		mean += px[i]
	}
	mean /= float64(n * n)
	ss := 0.0
	for _, v := range px {
		ss += (v - mean) * (v - mean)
	}
	spec := make([]complex128, n*n)
	for v := range n {
		for u := range n {
			var s complex128
			for y := range n {
				for x := range n {
					s += complex(px[y*n+x]-mean, 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(u*x+v*y)/float64(n)))
				}
			}
			spec[v*n+u] = s
		}
	}
	var out []float64
	for s := range cfg.Scales {
		for o := range cfg.Orientations {
			pooled := make([]float64, cfg.Grid*cfg.Grid)
			count := make([]float64, cfg.Grid*cfg.Grid)
			for y := range n {
				for x := range n {
					var r complex128
					for v := range n {
						for u := range n {
							fx, fy := float64(u)/float64(n), float64(v)/float64(n)
							if u > n/2 {
								fx -= 1
							}
							if v > n/2 {
								fy -= 1
							}
							h := cfg.Transfer(s, o, fx, fy)
							r += spec[v*n+u] * complex(h, 0) * cmplx.Exp(complex(0, 2*math.Pi*float64(u*x+v*y)/float64(n)))
						}
					}
					k := (y*cfg.Grid/n)*cfg.Grid + x*cfg.Grid/n
					pooled[k] += cmplx.Abs(r) / float64(n*n)
					count[k]++
				}
			}
			for k := range pooled {
				out = append(out, pooled[k]/count[k])
			}
		}
	}
	out = append(out, mean, math.Sqrt(ss/float64(n*n)))
	// Radial spectrum.
	half := n / 2
	bin := make([]float64, half+1)
	cnt := make([]float64, half+1)
	var bands []float64
	for lo := 1; lo < half; lo *= 2 {
		bands = append(bands, 0)
	}
	total := 0.0
	for v := range n {
		for u := range n {
			du, dv := float64(u), float64(v)
			if u > half {
				du -= float64(n)
			}
			if v > half {
				dv -= float64(n)
			}
			f := math.Sqrt(du*du + dv*dv)
			p := real(spec[v*n+u] * cmplx.Conj(spec[v*n+u]))
			if k := int(math.Round(f)); k >= 1 && k <= half {
				bin[k] += p
				cnt[k]++
			}
			if f >= 1 && f <= float64(half) {
				total += p
				j, lo := 0, 2.0
				for f >= lo && j < len(bands)-1 {
					j++
					lo *= 2
				}
				bands[j] += p
			}
		}
	}
	var xs, ys []float64
	for k := 1; k <= half; k++ {
		if cnt[k] > 0 && bin[k] > 0 {
			xs = append(xs, math.Log10(float64(k)))
			ys = append(ys, math.Log10(bin[k]/cnt[k]))
		}
	}
	// Slope by the normal equations of [1 x]·[c m] = y.
	var s1, sx, sy, sxx, sxy float64
	for i := range xs {
		s1++
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	m := (s1*sxy - sx*sy) / (s1*sxx - sx*sx)
	out = append(out, m, (sy-m*sx)/s1)
	for _, b := range bands {
		out = append(out, b/total)
	}
	return out
}

func randomGray(n int, seed uint64) *image.Gray {
	rng := rand.New(rand.NewPCG(seed, 1))
	g := image.NewGray(image.Rect(0, 0, n, n))
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	return g
}

func TestFeaturesAgainstNaive(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		n   int
	}{
		{Config{Scales: 2, Orientations: 4, Grid: 2}, 12},
		{Config{Scales: 3, Orientations: 3, Grid: 4}, 16},
		{Config{Scales: 1, Orientations: 2, Grid: 3}, 10}, // grid not dividing n
	} {
		g := randomGray(tc.n, uint64(tc.n))
		got := tc.cfg.NewBank(tc.n).Features(g)
		want := naiveFeatures(tc.cfg, g)
		names := tc.cfg.Names(tc.n)
		if len(got) != len(want) || len(names) != len(got) || tc.cfg.Len(tc.n) != len(got) {
			t.Fatalf("%+v n=%d: %d features, naive %d, %d names, Len %d", tc.cfg, tc.n, len(got), len(want), len(names), tc.cfg.Len(tc.n))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-9*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%+v n=%d %s: %v, naive %v", tc.cfg, tc.n, names[i], got[i], want[i])
			}
		}
	}
}

// TestGratings checks the bank's orientation and scale: a grating whose
// stripes are vertical (luminance varying along x) at the second scale's
// peak frequency drives orientation 0 at scale 1 most, and the same
// grating turned by 90° drives orientation O/2.
func TestGratings(t *testing.T) {
	const n = 32
	cfg := Config{}.withDefaults()
	bank := cfg.NewBank(n)
	for _, tc := range []struct {
		name   string
		alongX bool
		want   int
	}{{"vertical stripes", true, 0}, {"horizontal stripes", false, cfg.Orientations / 2}} {
		g := image.NewGray(image.Rect(0, 0, n, n))
		for y := range n {
			for x := range n {
				p := y
				if tc.alongX {
					p = x
				}
				g.Pix[y*n+x] = uint8(math.Round(127.5 + 100*math.Cos(2*math.Pi*0.125*float64(p))))
			}
		}
		f := bank.Features(g)
		cells := cfg.Grid * cfg.Grid
		bestS, bestO, best := -1, -1, -1.0
		for s := range cfg.Scales {
			for o := range cfg.Orientations {
				e := 0.0
				for k := range cells {
					e += f[(s*cfg.Orientations+o)*cells+k]
				}
				if e > best {
					bestS, bestO, best = s, o, e
				}
			}
		}
		if bestS != 1 || bestO != tc.want {
			t.Errorf("%s: strongest energy at scale %d orientation %d, want scale 1 orientation %d", tc.name, bestS, bestO, tc.want)
		}
		// All the power is at 4 cycles per image, band [4, 8), but for
		// the rounding of the pixels to 8 bits.
		names := cfg.Names(n)
		for i, name := range names {
			if name == "band_4_8" && math.Abs(f[i]-1) > 1e-3 {
				t.Errorf("%s: %s = %v, want 1", tc.name, name, f[i])
			}
		}
	}
}

// TestOneVsRestPlanted runs the control on synthetic sets whose categories
// differ in luminance and spatial frequency (stimuli.Synthetic): the
// classifiers find them. With the labels shuffled, test F1 falls to what
// guessing gives.
func TestOneVsRestPlanted(t *testing.T) {
	set := stimuli.Synthetic("planted", 120, 3, 32)
	x, err := Extract(context.Background(), set, imagenet.Config{Size: 32}, Config{Scales: 3, Orientations: 4, Grid: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	labels := set.Labels()
	rng := rand.New(rand.NewPCG(9, 9))
	perm := rng.Perm(len(labels))
	var train, val, test []int
	for k, i := range perm {
		switch {
		case k < 60:
			train = append(train, i)
		case k < 90:
			val = append(val, i)
		default:
			test = append(test, i)
		}
	}
	tasks, err := OneVsRest(x, labels, train, val, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 3 {
		t.Fatalf("%d tasks, want 3", len(tasks))
	}
	for _, task := range tasks {
		if f := task.Test.F1(); f < 0.8 {
			t.Errorf("%v: test F1 %.3f on planted low-level differences, want ≥ 0.8", task.Category, f)
		}
		if task.Test.TP+task.Test.FP+task.Test.FN+task.Test.TN != len(test) {
			t.Errorf("%v: confusion %+v does not count %d test images", task.Category, task.Test, len(test))
		}
	}
	// Shuffled labels, several draws: mean test F1 near guessing. A
	// classifier that guesses "category" for a fraction q of images has
	// expected F1 2q·π/(q+π) with π = 1/3, at most 0.5 (q = 1).
	sum, k := 0.0, 0
	for d := range 5 {
		sh := make([]stimuli.Category, len(labels))
		for i, j := range rand.New(rand.NewPCG(uint64(d), 2)).Perm(len(labels)) {
			sh[i] = labels[j]
		}
		tasks, err := OneVsRest(x, sh, train, val, test, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			sum += task.Test.F1()
			k++
		}
	}
	if mean := sum / float64(k); mean > 0.5 {
		t.Errorf("shuffled labels: mean test F1 %.3f, want ≤ 0.5 (guessing)", mean)
	} else {
		t.Logf("shuffled labels: mean test F1 %.3f over %d tasks", mean, k)
	}
}

func TestStandardizeUsesTrainOnly(t *testing.T) {
	x := [][]float64{{1, 5}, {3, 5}, {100, 7}, nil}
	z := Standardize(x, []int{0, 1})
	want := [][]float64{{-1, 0}, {1, 0}, {98, 0}, nil}
	for i := range want {
		for j := range want[i] {
			if z[i][j] != want[i][j] {
				t.Errorf("z[%d][%d] = %v, want %v", i, j, z[i][j], want[i][j])
			}
		}
	}
	if z[3] != nil {
		t.Error("a nil row became non-nil")
	}
}
