package selectivity

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// close9 reports agreement within 1e-9, relative to the larger magnitude
// where that exceeds 1 and absolute otherwise; relative for p-values
// (tiny ones included, so that a p of 1e-30 must be right to 9 digits).
func close9(got, want float64, relative bool) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	scale := max(1, math.Abs(want))
	if relative {
		scale = math.Abs(want)
	}
	return math.Abs(got-want) <= 1e-9*scale
}

// TestIndexKSciPy holds IndexK's ANOVA (F and p), BH's q-values and the
// K-class d′ to scipy.stats.f_oneway, a Benjamini–Hochberg by its
// definition and numpy (testdata/gen/anova.py), for K = 2 to 8.
func TestIndexKSciPy(t *testing.T) {
	b, err := os.ReadFile("testdata/anova.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Cases []struct {
			Name    string
			K, N, C int
			Labels  []int
			X       []float64
			F, P, Q []float64
			DPrime  [][]float64
		}
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range fx.Cases {
		x := make([]float32, len(c.X))
		for i, v := range c.X {
			x[i] = float32(v)
		}
		r, err := IndexK(tensor.From(x, c.N, c.C), c.Labels, c.K, Config{})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		q := BH(r.P())
		for j, n := range r.Neurons {
			if !close9(n.F, c.F[j], true) || !close9(n.P, c.P[j], true) {
				t.Errorf("%s channel %d: F %v p %v, scipy F %v p %v", c.Name, j, n.F, n.P, c.F[j], c.P[j])
			}
			if !close9(q[j], c.Q[j], true) {
				t.Errorf("%s channel %d: q %v, by hand %v", c.Name, j, q[j], c.Q[j])
			}
			for e := range c.K {
				if !close9(n.DPrime[e], c.DPrime[j][e], false) {
					t.Errorf("%s channel %d class %d: d′ %v, numpy %v", c.Name, j, e, n.DPrime[e], c.DPrime[j][e])
				}
			}
		}
	}
}

// TestFTail checks the F upper tail against closed forms: for d1 = 2,
// P(X ≥ f) = (1 + 2f/d2)^(−d2/2); for d1 = d2 = 2, 1/(1+f).
func TestFTail(t *testing.T) {
	for _, f := range []float64{0.01, 0.5, 1, 3, 20, 1e4} {
		for _, d2 := range []float64{2, 5, 37, 400} {
			want := math.Pow(1+2*f/d2, -d2/2)
			if got := FTail(f, 2, d2); !close9(got, want, true) {
				t.Errorf("FTail(%v, 2, %v) = %v, want %v", f, d2, got, want)
			}
		}
	}
	if FTail(0, 3, 10) != 1 || FTail(math.Inf(1), 3, 10) != 0 || !math.IsNaN(FTail(math.NaN(), 3, 10)) {
		t.Error("FTail edge cases")
	}
}

// randomK draws responses for n images and c channels with k classes
// (some images Unclassified), a dead channel, a constant-per-class one and
// a non-finite one.
func randomK(rng *rand.Rand, n, c, k int) (*tensor.Tensor, []int) {
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i%(k+1) - 1 // -1 is Unclassified
	}
	x := make([]float32, n*c)
	for i := range n {
		for j := range c {
			v := float32(rng.NormFloat64()*2 + float64(j%3)*float64(labels[i]+1))
			switch j {
			case 0:
				v = 1.5
			case 1:
				v = float32(labels[i]) * 2
			}
			x[i*c+j] = max(v, 0)
		}
	}
	x[3*c+2] = float32(math.NaN())
	return tensor.From(x, n, c), labels
}

// TestIndexKMatchesIndex: at K = 3 with the emotion categories as classes,
// IndexK gives Index's statistics bit for bit (both variances, with
// Unknown images, dead, constant and non-finite channels), the same
// selection and the same overlaps.
func TestIndexKMatchesIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	bits := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
	}
	var selsK []*SelectionK
	var sels []*Selection
	for set := range 2 {
		resp, labels := randomK(rng, 40+set, 30, 3)
		cats := make([]stimuli.Category, len(labels))
		for i, l := range labels {
			cats[i] = stimuli.Unknown
			if l >= 0 {
				cats[i] = stimuli.Category(l)
			}
		}
		for _, cfg := range []Config{{}, {SampleVariance: true}} {
			r, err := Index(resp, cats, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rk, err := IndexK(resp, labels, 3, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rk.Flaws != r.Flaws || rk.Unknown != r.Unknown || !slices.Equal(rk.N, r.N[:]) {
				t.Errorf("flaws %v/%v unknown %d/%d N %v/%v", rk.Flaws, r.Flaws, rk.Unknown, r.Unknown, rk.N, r.N)
			}
			for j, n := range r.Neurons {
				m := rk.Neurons[j]
				pref := int(n.Preferred)
				if n.Preferred == stimuli.Unknown {
					pref = -1
				}
				if !bits(m.Mean, n.Mean[:]) || !bits(m.Var, n.Var[:]) || !bits(m.Tuning, n.Tuning[:]) ||
					!bits(m.DPrime, n.DPrime[:]) || !bits([]float64{m.SI}, []float64{n.SI}) || m.Preferred != pref || m.Flaw != n.Flaw {
					t.Fatalf("channel %d (%v): IndexK %+v, Index %+v", j, cfg, m, n)
				}
			}
			if cfg.SampleVariance {
				continue
			}
			for _, keep := range []float64{0, 0.3, DefaultKeep, 1} {
				s, sk := r.Select(keep), rk.Select(BySI, keep, 0)
				if s.Cut != sk.Cut || !slices.Equal(s.Kept, sk.Kept) || s.Eligible != sk.Eligible {
					t.Errorf("keep %v: cut %v/%v", keep, sk.Cut, s.Cut)
				}
				for e := range stimuli.NumEmotions {
					if !slices.Equal(s.Selective[e], sk.Selective[e]) {
						t.Errorf("keep %v %v: selective %v, Select %v", keep, e, sk.Selective[e], s.Selective[e])
					}
				}
			}
			sels, selsK = append(sels, r.Select(0.5)), append(selsK, rk.Select(BySI, 0.5, 0))
		}
	}
	for _, ch := range []Chance{ChanceAll, ChanceValid} {
		o, ok := Overlaps(ch, sels...), OverlapsK(ch, selsK...)
		for e := range stimuli.NumEmotions {
			a, b := o[e], ok[e]
			if !slices.Equal(a.Channels, b.Channels) || !slices.Equal(a.N, b.N) || a.Population != b.Population ||
				a.Expected != b.Expected || a.P != b.P {
				t.Errorf("%v %v: OverlapsK %+v, Overlaps %+v", ch, e, b, a)
			}
		}
	}
}

// TestSelectCriteria checks ByANOVA and ByNasr against their definitions
// applied to the channels' p-values one by one, and the criterion names.
func TestSelectCriteria(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	resp, labels := randomK(rng, 60, 40, 4)
	r, err := IndexK(resp, labels, 4, Config{})
	if err != nil {
		t.Fatal(err)
	}
	q := BH(r.P())
	for _, crit := range []Criterion{ByANOVA, ByNasr} {
		for _, alpha := range []float64{0, 0.001, 0.2} {
			s := r.Select(crit, 1, alpha)
			a := alpha
			if a == 0 {
				a = map[Criterion]float64{ByANOVA: 0.05, ByNasr: 0.01}[crit]
			}
			kept := 0
			for j, n := range r.Neurons {
				want := n.Flaw == OK && ((crit == ByANOVA && q[j] <= a) || (crit == ByNasr && n.P < a))
				if s.Kept[j] != want {
					t.Errorf("%v α %v channel %d: kept %v, p %v q %v", crit, alpha, j, s.Kept[j], n.P, q[j])
				}
				if want {
					kept++
					if _, found := slices.BinarySearch(s.Selective[n.Preferred], j); !found {
						t.Errorf("%v channel %d not selective for its preferred class %d", crit, j, n.Preferred)
					}
				}
			}
			total := 0
			for _, l := range s.Selective {
				total += len(l)
			}
			if total != kept {
				t.Errorf("%v α %v: %d selective, %d kept", crit, alpha, total, kept)
			}
		}
	}
	for _, name := range []string{"si", "anova", "nasr"} {
		c, err := ParseCriterion(name)
		if err != nil || c.String() != name {
			t.Errorf("ParseCriterion(%q) = %v, %v", name, c, err)
		}
	}
	if _, err := ParseCriterion("t"); err == nil {
		t.Error("ParseCriterion accepted t")
	}
	if _, err := IndexK(resp, make([]int, 60), 4, Config{}); err == nil {
		t.Error("IndexK accepted classes without images")
	}
}
