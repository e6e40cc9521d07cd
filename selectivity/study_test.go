package selectivity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

func TestOverlapsChance(t *testing.T) {
	valid := func(c int, except int) []bool {
		v := make([]bool, c)
		for i := range v {
			v[i] = i != except
		}
		return v
	}
	a := &Selection{Kept: make([]bool, 10), Valid: valid(10, 9)}
	a.Selective = [3][]int{{0, 1, 2, 3, 8}, {4, 5}, {6}}
	b := &Selection{Kept: make([]bool, 10), Valid: valid(10, 8)}
	b.Selective = [3][]int{{0, 1, 5, 9}, {4, 6, 7}, {}}

	// The paper's model: all 10 channels, every selective channel counted.
	all := Overlaps(ChanceAll, a, b)
	p := all[P]
	if p.Population != 10 || !slices.Equal(p.N, []int{5, 4}) || p.N1 != 5 || p.N2 != 4 || p.Expected != 2 ||
		!slices.Equal(p.Channels, []int{0, 1}) {
		t.Errorf("ChanceAll pleasant %+v", p)
	}
	// P(X >= 2) = 1 - [C(5,0)C(5,4) + C(5,1)C(5,3)] / C(10,4) = 1 - 55/210.
	if math.Abs(p.P-155.0/210) > 1e-14 {
		t.Errorf("ChanceAll pleasant p = %v, want 155/210", p.P)
	}
	if n := all[N]; n.Population != 10 || !slices.Equal(n.N, []int{2, 3}) || math.Abs(n.Expected-0.6) > 1e-15 {
		t.Errorf("ChanceAll neutral %+v", n)
	}
	// The valid-channel model is Compare's (tested in TestCompare).
	valid8 := Overlaps(ChanceValid, a, b)
	cmp := Compare(a, b)
	for e := range 3 {
		v, c := valid8[e], cmp[e]
		if v.Population != c.Population || v.N1 != c.N1 || v.N2 != c.N2 || v.Expected != c.Expected || v.P != c.P ||
			!slices.Equal(v.Channels, c.Channels) {
			t.Errorf("emotion %d: Overlaps(ChanceValid) %+v, Compare %+v", e, v, c)
		}
	}
	if valid8[P].Population != 8 || !slices.Equal(valid8[P].N, []int{4, 3}) {
		t.Errorf("ChanceValid pleasant %+v", valid8[P])
	}

	// Three sets: the intersection of all three.
	c := &Selection{Kept: make([]bool, 10), Valid: valid(10, -1)}
	c.Selective = [3][]int{{1, 2, 5}, {4}, {6}}
	three := Overlaps(ChanceAll, a, b, c)
	if p := three[P]; !slices.Equal(p.Channels, []int{1}) || !slices.Equal(p.N, []int{5, 4, 3}) ||
		math.Abs(p.Expected-10*0.5*0.4*0.3) > 1e-15 || math.Abs(p.P-IntersectTail(10, []int{5, 4, 3}, 1)) > 0 {
		t.Errorf("three sets, pleasant %+v", p)
	}
	if n := three[N]; !slices.Equal(n.Channels, []int{4}) {
		t.Errorf("three sets, neutral %+v", n)
	}
	mustPanic(t, "Overlaps of 1 selections", func() { Overlaps(ChanceAll, a) })
	mustPanic(t, "Overlaps of selections with 10 and 3 channels", func() {
		Overlaps(ChanceAll, a, &Selection{Kept: make([]bool, 3)})
	})
}

// bruteIntersect enumerates every choice of subsets of the given sizes
// from pop items and counts those whose common intersection has at least
// k items, exactly.
func bruteIntersect(pop int, sizes []int, k int) float64 {
	var masks [][]uint
	for _, s := range sizes {
		var ms []uint
		for m := uint(0); m < 1<<pop; m++ {
			if bits.OnesCount(m) == s {
				ms = append(ms, m)
			}
		}
		masks = append(masks, ms)
	}
	hits, all := new(big.Int), new(big.Int)
	one := big.NewInt(1)
	var walk func(j int, acc uint)
	walk = func(j int, acc uint) {
		if j == len(masks) {
			all.Add(all, one)
			if bits.OnesCount(acc) >= k {
				hits.Add(hits, one)
			}
			return
		}
		for _, m := range masks[j] {
			walk(j+1, acc&m)
		}
	}
	walk(0, 1<<pop-1)
	f, _ := new(big.Rat).SetFrac(hits, all).Float64()
	return f
}

func TestIntersectTail(t *testing.T) {
	for pop := range 7 {
		for _, sizes := range [][]int{{0, 0, 0}, {1, 2, 3}, {3, 3, 3}, {2, 4, 5}, {4, 4, 1, 3}, {5, 2, 5, 4}, {6, 6, 6}} {
			if slices.Max(sizes) > pop || (len(sizes) == 4 && pop > 5) {
				continue
			}
			for k := -1; k <= slices.Min(sizes)+1; k++ {
				got, want := IntersectTail(pop, sizes, k), bruteIntersect(pop, sizes, k)
				if math.Abs(got-want) > 1e-13 {
					t.Errorf("IntersectTail(%d, %v, %d) = %v, brute force %v", pop, sizes, k, got, want)
				}
			}
		}
	}
	// Two sets are UpperTail; one set is certain.
	if got := IntersectTail(512, []int{100, 120}, 40); got != UpperTail(512, 100, 120, 40) {
		t.Errorf("two sets: %v", got)
	}
	if IntersectTail(9, []int{4}, 4) != 1 || IntersectTail(9, []int{4}, 5) != 0 {
		t.Error("one set")
	}
	// Large, three sets: tail at the mean is moderate, far above it tiny but positive.
	mean := 512 * (200.0 / 512) * (220.0 / 512) * (180.0 / 512)
	if p := IntersectTail(512, []int{200, 220, 180}, int(mean)); p < 0.3 || p > 0.7 {
		t.Errorf("tail at the mean %.1f = %v", mean, p)
	}
	if p := IntersectTail(512, []int{200, 220, 180}, 100); !(p > 0 && p < 1e-20) {
		t.Errorf("far tail = %v", p)
	}
	mustPanic(t, "subset of 6 from population 5", func() { IntersectTail(5, []int{1, 6, 2}, 0) })
}

func TestPaperLayers(t *testing.T) {
	for n, want := range map[int][3]int{13: {2, 5, 12}, 5: {1, 2, 4}, 1: {0, 0, 0}, 16: {3, 6, 15}} {
		if got := PaperLayers(n); got != want {
			t.Errorf("PaperLayers(%d) = %v, want %v", n, got, want)
		}
	}
	mustPanic(t, "PaperLayers(0)", func() { PaperLayers(0) })
}

// memSet returns an in-memory set with the given categories.
func memSet(name string, cats ...stimuli.Category) *stimuli.Set {
	s := &stimuli.Set{Name: name}
	for i, c := range cats {
		v := [4]float64{7, 5, 3, 4.3}[c]
		s.Images = append(s.Images, stimuli.Image{File: fmt.Sprintf("%s%d.png", name, i), Valence: v + float64(i)/100, Category: c})
	}
	return s
}

// handStudy has one layer of five channels on two sets of six images:
// channel 0 prefers pleasant in both sets (strongly in A), channel 1
// prefers pleasant in both (strongly in both), channel 2 prefers neutral in
// A and unpleasant in B, channel 3 is dead, channel 4 prefers unpleasant in
// both but weakly in B.
func handStudy(t *testing.T, cfg StudyConfig) *Study {
	labels := []stimuli.Category{P, P, N, N, U, U}
	a := tensor.From([]float32{
		9, 7, 1, 0, 1,
		8, 8, 0, 0, 2,
		1, 1, 9, 0, 1,
		2, 2, 8, 0, 2,
		1, 1, 1, 0, 9,
		2, 2, 2, 0, 8,
	}, 6, 5)
	b := tensor.From([]float32{
		5, 9, 1, 0, 1,
		4, 8, 0, 0, 3,
		2, 1, 2, 0, 2,
		3, 2, 1, 0, 2,
		2, 1, 9, 0, 3,
		3, 2, 8, 0, 2,
	}, 6, 5)
	sets := []*Responses{
		{Set: memSet("A", labels...), Units: []string{"conv1"}, Resp: []*tensor.Tensor{a}},
		{Set: memSet("B", labels...), Units: []string{"conv1"}, Resp: []*tensor.Tensor{b}},
	}
	s, err := Analyze(sets, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAnalyzeHand(t *testing.T) {
	s := handStudy(t, StudyConfig{})
	if s.Config.Keep != DefaultKeep || len(s.Layers) != 1 || !slices.Equal(s.Names(), []string{"A", "B"}) {
		t.Fatalf("study %+v", s)
	}
	l := s.Layers[0]
	if l.Name != "conv1" || l.Channels != 5 || l.Results[0].Flaws[Dead] != 1 {
		t.Fatalf("layer %+v", l)
	}
	// Each set's own Index and Select.
	for k, r := range s.Sets {
		want, _ := Index(r.Resp[0], r.Set.Labels(), Config{})
		if !slices.EqualFunc(l.Results[k].SI(), want.SI(), func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }) {
			t.Errorf("set %d SIs %v, want %v", k, l.Results[k].SI(), want.SI())
		}
		if got, want := kept(l.Selections[k]), kept(want.Select(DefaultKeep)); !slices.Equal(got, want) {
			t.Errorf("set %d kept %v, want %v", k, got, want)
		}
	}
	// Four valid channels, ⌈0.8·4⌉ = 4 kept in each set: pleasant {0, 1}
	// in both, so both are shared; channel 2 differs; 4 is unpleasant in
	// both.
	if got := l.Overlap[P].Channels; !slices.Equal(got, []int{0, 1}) {
		t.Errorf("shared pleasant %v", got)
	}
	if got := l.Overlap[U].Channels; !slices.Equal(got, []int{4}) {
		t.Errorf("shared unpleasant %v", got)
	}
	if l.Overlap[P].Population != 5 || l.Overlap[P].Expected != 2*2/5.0 {
		t.Errorf("pleasant chance %+v", l.Overlap[P])
	}
	if got := s.Shared(); !slices.Equal(got, [][3]int{{2, 0, 1}}) {
		t.Errorf("Shared %v", got)
	}
	if got := s.Summaries(); len(got) != 1 || len(got[0]) != 2 || got[0][0].Invalid != 1 {
		t.Errorf("Summaries %+v", got)
	}
	// Exemplars: the shared pleasant channel with the larger smallest SI;
	// no channel prefers neutral in both sets.
	si := func(k, c int) float64 { return l.Results[k].Neurons[c].SI }
	wantP := 0
	if min(si(0, 1), si(1, 1)) > min(si(0, 0), si(1, 0)) {
		wantP = 1
	}
	if ex := s.Exemplar(0, P); ex.Channel != wantP || !ex.Shared {
		t.Errorf("pleasant exemplar %+v, want channel %d", ex, wantP)
	}
	if ex := s.Exemplar(0, N); ex.Channel != -1 || ex.Shared {
		t.Errorf("neutral exemplar %+v", ex)
	}
	if ex := s.Exemplar(0, U); ex.Channel != 4 || !ex.Shared {
		t.Errorf("unpleasant exemplar %+v", ex)
	}
	// With keep 0.25 only the top valid channel per set survives; channel
	// 4 (weak in B) is no longer shared but still the unpleasant exemplar.
	s = handStudy(t, StudyConfig{Keep: 0.25, Chance: ChanceValid})
	if ex := s.Exemplar(0, U); ex.Channel != 4 || ex.Shared {
		t.Errorf("keep 0.25: unpleasant exemplar %+v", ex)
	}
	if o := s.Layers[0].Overlap[P]; o.Population != 4 {
		t.Errorf("ChanceValid population %d", o.Population)
	}
	if top := s.Top(0, 1, 2, 2); !slices.Equal(top, []int{4, 5}) {
		t.Errorf("Top = %v", top)
	}
}

// writeSet writes a ratings.csv set with one (empty) image file per row.
func writeSet(t *testing.T, dir string, cats ...stimuli.Category) string {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	var b strings.Builder
	b.WriteString("file,valence\n")
	for i, c := range cats {
		f := fmt.Sprintf("img%d.png", i)
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
		fmt.Fprintf(&b, "%s,%v\n", f, [3]float64{7.5, 5, 2.5}[c])
	}
	os.WriteFile(filepath.Join(dir, stimuli.RatingsFile), []byte(b.String()), 0o644)
	return filepath.Join(dir, stimuli.RatingsFile)
}

func TestAnalyzeLabelErrors(t *testing.T) {
	good := memSet("good", P, P, N, N, U, U)
	for _, c := range []struct {
		name string
		cats []stimuli.Category
		want string
	}{
		{"no pleasant", []stimuli.Category{N, N, U, U}, "has 0 pleasant images"},
		{"no neutral", []stimuli.Category{P, P, U, U}, "has 0 neutral images"},
		{"no unpleasant", []stimuli.Category{P, P, N, N}, "has 0 unpleasant images"},
		{"one neutral", []stimuli.Category{P, P, N, U, U, U}, "has 1 neutral images"},
		{"one of two", []stimuli.Category{P, N, U, U}, "has 1 pleasant and 1 neutral images"},
	} {
		dir := filepath.Join(t.TempDir(), "bad")
		ratings := writeSet(t, dir, c.cats...)
		set, err := stimuli.Load(dir, stimuli.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckSet(set); !errors.Is(err, ErrLabels) || !strings.Contains(err.Error(), "set bad ("+ratings+")") ||
			!strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CheckSet: %v", c.name, err)
		}
		resp := func(s *stimuli.Set) *Responses {
			return &Responses{Set: s, Units: []string{"conv1"}, Resp: []*tensor.Tensor{tensor.New(len(s.Images), 3)}}
		}
		_, err = Analyze([]*Responses{resp(good), resp(set)}, StudyConfig{})
		if !errors.Is(err, ErrLabels) || !strings.Contains(err.Error(), ratings) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Analyze: %v", c.name, err)
		}
	}
	if err := CheckSet(memSet("m", P, N, N, U, U)); err == nil || !strings.Contains(err.Error(), "set m (in memory)") {
		t.Errorf("in-memory set: %v", err)
	}
	if err := CheckSet(good); err != nil {
		t.Error(err)
	}
}

func TestAnalyzeMisuse(t *testing.T) {
	s := memSet("a", P, P, N, N, U, U)
	one := &Responses{Set: s, Units: []string{"c"}, Resp: []*tensor.Tensor{tensor.New(6, 2)}}
	mustPanic(t, "at least 2 sets, got 1", func() { Analyze([]*Responses{one}, StudyConfig{}) })
	other := &Responses{Set: s, Units: []string{"d"}, Resp: []*tensor.Tensor{tensor.New(6, 2)}}
	mustPanic(t, "set a has units [d], set a has [c]", func() { Analyze([]*Responses{one, other}, StudyConfig{}) })
	wide := &Responses{Set: s, Units: []string{"c"}, Resp: []*tensor.Tensor{tensor.New(6, 3)}}
	mustPanic(t, "unit c: responses [6 3], want [6 2]", func() { Analyze([]*Responses{one, wide}, StudyConfig{}) })
	mustPanic(t, "keep fraction 2", func() { Analyze([]*Responses{one, one}, StudyConfig{Keep: 2}) })
}

func TestWriteCSV(t *testing.T) {
	s := handStudy(t, StudyConfig{})
	var b bytes.Buffer
	if err := WriteSelectivity(&b, s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if lines[0] != "set,layer,channel,tuning_pleasant,tuning_neutral,tuning_unpleasant,dprime_pleasant,dprime_neutral,dprime_unpleasant,si,preferred" {
		t.Errorf("header %q", lines[0])
	}
	if len(lines) != 1+2*5 {
		t.Errorf("%d lines", len(lines))
	}
	// The dead channel: NaN everywhere, preferred unknown.
	if lines[4] != "A,conv1,3,NaN,NaN,NaN,NaN,NaN,NaN,NaN,unknown" {
		t.Errorf("dead channel row %q", lines[4])
	}
	n := s.Layers[0].Results[1].Neurons[1]
	want := fmt.Sprintf("B,conv1,1,%s,%s,%s,%s,%s,%s,%s,pleasant", formatFloat(n.Tuning[0]), formatFloat(n.Tuning[1]), formatFloat(n.Tuning[2]),
		formatFloat(n.DPrime[0]), formatFloat(n.DPrime[1]), formatFloat(n.DPrime[2]), formatFloat(n.SI))
	if lines[7] != want {
		t.Errorf("row %q, want %q", lines[7], want)
	}

	b.Reset()
	WriteSelective(&b, s)
	if got := b.String(); got != "layer,channel,emotion\nconv1,0,pleasant\nconv1,1,pleasant\nconv1,4,unpleasant\n" {
		t.Errorf("selective.csv:\n%s", got)
	}
	b.Reset()
	WriteOverlap(&b, s)
	lines = strings.Split(strings.TrimSpace(b.String()), "\n")
	o := s.Layers[0].Overlap[P]
	if lines[0] != "layer,emotion,n_A,n_B,channels,observed,expected,p" || len(lines) != 4 ||
		lines[1] != fmt.Sprintf("conv1,pleasant,2,2,5,2,0.8,%s", formatFloat(o.P)) {
		t.Errorf("overlap.csv:\n%s", b.String())
	}
	b.Reset()
	WriteLayers(&b, []string{"net", "skipped"}, []*Study{s, nil})
	lines = strings.Split(strings.TrimSpace(b.String()), "\n")
	if lines[0] != strings.Join(LayersHeader, ",") || len(lines) != 3 || !strings.HasPrefix(lines[1], "net,A,conv1,5,4,1,0,0,") ||
		!strings.HasSuffix(lines[1], ",2,0,1") {
		t.Errorf("layers.csv:\n%s", b.String())
	}
	b.Reset()
	WriteTop(&b, s, []Exemplar{s.Exemplar(0, U), s.Exemplar(0, N)}, 2)
	if got := b.String(); got != "layer,emotion,channel,shared,set,rank,row,file,valence,category\n"+
		"conv1,unpleasant,4,true,A,1,4,A4.png,3.04,unpleasant\nconv1,unpleasant,4,true,A,2,5,A5.png,3.05,unpleasant\n"+
		"conv1,unpleasant,4,true,B,1,1,B1.png,7.01,pleasant\nconv1,unpleasant,4,true,B,2,4,B4.png,3.04,unpleasant\n" {
		t.Errorf("top.csv:\n%s", got)
	}
	b.Reset()
	null := &Null{Permutations: 9, Mean: [][3]float64{{0.5, 0, 1}}, P: [][3]float64{{0.1, 1, 0.2}}}
	WriteNull(&b, s, null)
	if got := b.String(); got != "layer,emotion,observed,null_mean,p_perm,permutations\n"+
		"conv1,pleasant,2,0.5,0.1,9\nconv1,neutral,0,0,1,9\nconv1,unpleasant,1,1,0.2,9\n" {
		t.Errorf("null.csv:\n%s", got)
	}
	if formatFloat(math.Inf(-1)) != "-Inf" || formatFloat(0.1) != "0.1" {
		t.Error("formatFloat")
	}
}

// labelings returns every distinct arrangement of the multiset cats.
func labelings(cats []stimuli.Category) [][]stimuli.Category {
	var out [][]stimuli.Category
	var rec func(prefix []stimuli.Category, left [3]int)
	rec = func(prefix []stimuli.Category, left [3]int) {
		if len(prefix) == len(cats) {
			out = append(out, slices.Clone(prefix))
			return
		}
		for e := range 3 {
			if left[e] > 0 {
				left[e]--
				rec(append(prefix, stimuli.Category(e)), left)
				left[e]++
			}
		}
	}
	var n [3]int
	for _, c := range cats {
		n[c]++
	}
	rec(nil, n)
	return out
}

// TestPermuteExact compares Permute's Monte Carlo p-values on handStudy
// with the exact permutation distribution, enumerated over all 90×90
// pairs of distinct labelings (each equally likely under shuffling).
func TestPermuteExact(t *testing.T) {
	s := handStudy(t, StudyConfig{})
	labs := labelings(s.Sets[0].Set.Labels())
	if len(labs) != 90 {
		t.Fatalf("%d labelings", len(labs))
	}
	var above [3]int
	var sum [3]float64
	for _, la := range labs {
		ra, _ := Index(s.Sets[0].Resp[0], la, Config{})
		sa := ra.Select(DefaultKeep)
		for _, lb := range labs {
			rb, _ := Index(s.Sets[1].Resp[0], lb, Config{})
			ov := Overlaps(ChanceAll, sa, rb.Select(DefaultKeep))
			for e := range 3 {
				c := len(ov[e].Channels)
				sum[e] += float64(c)
				if c >= len(s.Layers[0].Overlap[e].Channels) {
					above[e]++
				}
			}
		}
	}
	const n = 4000
	null, err := Permute(context.Background(), s, n, 3)
	if err != nil {
		t.Fatal(err)
	}
	for e := range 3 {
		exact := float64(above[e]) / (90 * 90)
		mean := sum[e] / (90 * 90)
		se := math.Sqrt(exact*(1-exact)/n) + 1.0/n
		if got := null.P[0][e]; math.Abs(got-exact) > 4*se {
			t.Errorf("emotion %d: permutation p %.4f, exact %.4f (±%.4f)", e, got, exact, 4*se)
		}
		if got := null.Mean[0][e]; math.Abs(got-mean) > 0.1 {
			t.Errorf("emotion %d: null mean %.3f, exact %.3f", e, got, mean)
		}
	}
	mustPanic(t, "Permute with 0 permutations", func() { Permute(context.Background(), s, 0, 1) })
}
