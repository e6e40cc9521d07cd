package selectivity

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// twoWayFixture is selectivity/testdata/twoway.json, written by
// testdata/gen/twoway_gen.py (numpy least squares, scipy.stats.f.sf).
type twoWayFixture struct {
	Cases []struct {
		Name        string                       `json:"name"`
		Categories  []int                        `json:"categories"`
		Levels      []string                     `json:"levels"`
		Responses   [][]float64                  `json:"responses"`
		RawChannels []map[string]json.RawMessage `json:"channels"`
		Q           map[string][]*float64        `json:"q"`
	} `json:"cases"`
}

type fixtureTerm struct {
	SS   float64  `json:"ss"`
	DF   int      `json:"df"`
	F    *float64 `json:"f"`
	P    *float64 `json:"p"`
	Eta2 *float64 `json:"eta2"`
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// twNear reports whether got agrees with want to tol, relative to
// max(1, |want|); two NaNs agree.
func twNear(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestTwoWayANOVAAgainstScipy(t *testing.T) {
	raw, err := os.ReadFile("testdata/twoway.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx twoWayFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("no cases in the fixture")
	}
	for _, c := range fx.Cases {
		n, ch := len(c.Responses), len(c.Responses[0])
		resp := tensor.New(n, ch)
		for i, row := range c.Responses {
			for j, v := range row {
				resp.Data()[i*ch+j] = float32(v)
				if float64(float32(v)) != v {
					t.Fatalf("%s: response %d,%d = %v is not a float32", c.Name, i, j, v)
				}
			}
		}
		labels := make([]stimuli.Category, n)
		for i, k := range c.Categories {
			labels[i] = stimuli.Unknown
			if k >= 0 {
				labels[i] = stimuli.Category(k)
			}
		}
		tab, err := TwoWayANOVA(resp, labels, c.Levels)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		worstP := 0.0
		for j, rc := range c.RawChannels {
			got := tab.Channels[j]
			var sse float64
			var dfe int
			json.Unmarshal(rc["sse"], &sse)
			json.Unmarshal(rc["dfe"], &dfe)
			if got.DFE != dfe || !twNear(got.SSE, sse, 1e-9) {
				t.Errorf("%s channel %d: SSE %v df %d, want %v df %d", c.Name, j, got.SSE, got.DFE, sse, dfe)
			}
			for _, term := range []struct {
				name string
				got  TwoWayEffect
			}{{"category", got.Category}, {"factor", got.Factor}, {"interaction", got.Interaction}} {
				var want fixtureTerm
				if err := json.Unmarshal(rc[term.name], &want); err != nil {
					t.Fatal(err)
				}
				g := term.got
				if g.DF != want.DF || !twNear(g.SS, want.SS, 1e-9) || !twNear(g.F, orNaN(want.F), 1e-9) ||
					!twNear(g.Eta2, orNaN(want.Eta2), 1e-9) {
					t.Errorf("%s channel %d %s: SS %v df %d F %v eta2 %v, want SS %v df %d F %v eta2 %v",
						c.Name, j, term.name, g.SS, g.DF, g.F, g.Eta2, want.SS, want.DF, orNaN(want.F), orNaN(want.Eta2))
				}
				wp := orNaN(want.P)
				if math.IsNaN(wp) != math.IsNaN(g.P) || math.Abs(g.P-wp) > 1e-9 {
					t.Errorf("%s channel %d %s: p %v, want %v", c.Name, j, term.name, g.P, wp)
				}
				if d := math.Abs(g.P - wp); d > worstP {
					worstP = d
				}
			}
		}
		qa, qb, qab := tab.Q()
		for name, got := range map[string][]float64{"category": qa, "factor": qb, "interaction": qab} {
			for j, w := range c.Q[name] {
				if wq := orNaN(w); math.IsNaN(wq) != math.IsNaN(got[j]) || math.Abs(got[j]-wq) > 1e-9 {
					t.Errorf("%s channel %d %s: q %v, want %v", c.Name, j, name, got[j], wq)
				}
			}
		}
		t.Logf("%s: %d images, %d channels, worst |Δp| %.2g", c.Name, tab.N, ch, worstP)
	}
}

// TestTwoWayCount checks Count against the q-values counted one by one.
func TestTwoWayCount(t *testing.T) {
	tab := plantedTwoWay(t)
	qa, qb, qab := tab.Q()
	var want TwoWayCount
	want.Channels = len(tab.Channels)
	for i, c := range tab.Channels {
		if c.SSE > 0 {
			want.Valid++
		}
		if qa[i] <= 0.05 {
			want.Category++
			if qb[i] > 0.05 && qab[i] > 0.05 {
				want.CategoryOnly++
			}
			if c.Category.Eta2 > c.Factor.Eta2 {
				want.Stronger++
			}
		}
		if qb[i] <= 0.05 {
			want.Factor++
		}
		if qab[i] <= 0.05 {
			want.Interaction++
		}
	}
	if got := tab.Count(0.05); got != want {
		t.Errorf("Count(0.05) = %+v, want %+v", got, want)
	}
	// Channel 0 responds to the category, 1 to the factor, 2 is noise and
	// 3 is dead.
	if !(tab.Channels[0].Category.P < 1e-6) || !(tab.Channels[1].Factor.P < 1e-6) || tab.Channels[0].Factor.P < 1e-3 {
		t.Errorf("planted effects not found: %+v", tab.Channels[:2])
	}
	if d := tab.Channels[3]; !math.IsNaN(d.Category.P) || !math.IsNaN(d.Category.F) {
		t.Errorf("constant channel: %+v, want NaN statistics", d)
	}
}

// plantedTwoWay builds 60 images (3 categories × 2 levels, unbalanced),
// channel 0 driven by the category, 1 by the factor, 2 noise, 3 constant,
// 4 NaN.
func plantedTwoWay(t *testing.T) *TwoWayTable {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 0))
	n, c := 60, 5
	resp := tensor.New(n, c)
	labels := make([]stimuli.Category, n)
	factor := make([]string, n)
	for i := range n {
		labels[i] = stimuli.Category(i % 3)
		factor[i] = "object"
		if i%5 < 2 {
			factor[i] = "scene"
		}
		row := resp.Data()[i*c : (i+1)*c]
		row[0] = float32(2*float64(labels[i]) + rng.NormFloat64())
		row[1] = float32(map[string]float64{"object": 0, "scene": 2}[factor[i]]) + float32(rng.NormFloat64())
		row[2] = float32(rng.NormFloat64())
		row[3] = 1
		row[4] = float32(math.NaN())
	}
	tab, err := TwoWayANOVA(resp, labels, factor)
	if err != nil {
		t.Fatal(err)
	}
	if d := tab.Channels[4]; !math.IsNaN(d.Category.P) || !math.IsNaN(d.SSE) {
		t.Errorf("NaN channel: %+v, want NaN statistics", d)
	}
	return tab
}

func TestTwoWayANOVAErrors(t *testing.T) {
	resp := tensor.New(6, 1)
	for i := range resp.Data() {
		resp.Data()[i] = float32(i * i)
	}
	cats := []stimuli.Category{0, 1, 2, 0, 1, 2}
	for _, tc := range []struct {
		name   string
		labels []stimuli.Category
		factor []string
	}{
		{"one level", cats, []string{"a", "a", "a", "a", "", "a"}},
		{"one category", []stimuli.Category{0, 0, stimuli.Unknown, 0, 0, 0}, []string{"a", "b", "a", "b", "a", "b"}},
		{"no residual", cats, []string{"a", "a", "a", "b", "b", "b"}},
	} {
		if _, err := TwoWayANOVA(resp, tc.labels, tc.factor); !errors.Is(err, ErrLabels) {
			t.Errorf("%s: err %v, want ErrLabels", tc.name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a factor of the wrong length did not panic")
		}
	}()
	TwoWayANOVA(resp, cats, []string{"a"})
}

// TestTwoWayTail checks the F tail against values of scipy.stats.f.sf and
// the edge cases.
func TestTwoWayTail(t *testing.T) {
	for _, c := range []struct{ f, d1, d2, want float64 }{
		// scipy.stats.f.sf(f, d1, d2), scipy 1.10.1
		{1, 1, 1, 0.5000000000000001},
		{3.5, 2, 36, 0.040833143352254284},
		{0.25, 4, 10, 0.9031582880860438},
		{40, 3, 500, 3.4963113138762114e-23},
	} {
		if got := twoWayTail(c.f, c.d1, c.d2); math.Abs(got-c.want) > 1e-10*c.want {
			t.Errorf("tail(%v, %v, %v) = %v, want %v", c.f, c.d1, c.d2, got, c.want)
		}
	}
	if twoWayTail(0, 2, 3) != 1 || twoWayTail(math.Inf(1), 2, 3) != 0 || !math.IsNaN(twoWayTail(1, 0, 3)) {
		t.Error("edge cases of the F tail are wrong")
	}
}
