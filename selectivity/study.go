package selectivity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// MinImages is the fewest images an emotion needs in a set: one image has
// no spread, so its σ² in Eq 5 says nothing.
const MinImages = 2

// Responses are one stimulus set's responses, unit by unit: the input of
// Analyze. Recording.Responses reads them from a recording.
type Responses struct {
	Set   *stimuli.Set     // labels, valences and file names of the rows
	Units []string         // unit names in forward order
	Resp  []*tensor.Tensor // [len(Set.Images), C] per unit
}

// Chance chooses the population from which the chance model of a
// cross-set overlap draws its random selections.
type Chance uint8

const (
	// ChanceAll draws from all of the layer's channels: the overlap
	// expected "given the two sets' counts and the layer's channel count",
	// as the paper computes it. It is the default.
	ChanceAll Chance = iota
	// ChanceValid draws only from channels with a finite SI in every set,
	// the only ones that can be selective at all; counts are restricted
	// to those channels too. With dead channels this is the conservative
	// choice (a larger expected overlap, a larger p).
	ChanceValid
)

func (c Chance) String() string {
	switch c {
	case ChanceAll:
		return "all channels"
	case ChanceValid:
		return "valid channels"
	}
	return fmt.Sprintf("Chance(%d)", uint8(c))
}

// StudyConfig adjusts Analyze. The zero value follows the paper.
type StudyConfig struct {
	Index  Config  // variance of Eq 5
	Keep   float64 // fraction of finite-SI channels kept per set and layer; 0 means DefaultKeep
	Chance Chance  // population of the chance model
}

// Study is the cross-set analysis of one network: per layer, every set's
// selectivity and selection, and the overlap of the selections.
type Study struct {
	Config StudyConfig // with Keep resolved
	Sets   []*Responses
	Layers []Layer
}

// Layer is one unit's part of a Study. Slices are indexed like
// Study.Sets.
type Layer struct {
	Name       string
	Channels   int
	Results    []*Result
	Selections []*Selection
	// Overlap holds, per emotion, the channels selective for it in every
	// set (the paper's emotion-selective neurons) and the chance model.
	Overlap [stimuli.NumEmotions]Overlap
}

// CheckSet returns an error wrapping ErrLabels, naming the set and its
// ratings file, if an emotion has fewer than MinImages images in set.
func CheckSet(set *stimuli.Set) error {
	c := set.Counts()
	var short []string
	for e := range stimuli.NumEmotions {
		if c[e] < MinImages {
			short = append(short, fmt.Sprintf("%d %v", c[e], e))
		}
	}
	if len(short) == 0 {
		return nil
	}
	src := set.Ratings
	if src == "" {
		src = "in memory"
	}
	return fmt.Errorf("%w: set %s (%s) has %s images (%v); every emotion needs at least %d",
		ErrLabels, set.Name, src, strings.Join(short, " and "), c, MinImages)
}

// Analyze runs the paper's selectivity analysis on the responses of two
// or more stimulus sets to the same network: for each unit and set, Index
// (cfg.Index) and Select (cfg.Keep), then the channels selective for the
// same emotion in every set with the overlap expected by chance and its
// exact one-sided p-value (Overlaps with cfg.Chance).
//
// It returns an error wrapping ErrLabels, naming the set and its ratings
// file, when an emotion has fewer than MinImages images in a set. It
// panics if fewer than two sets are given, if their units differ in names
// or channels, or if a response matrix is not [len(Set.Images), C].
func Analyze(sets []*Responses, cfg StudyConfig) (*Study, error) {
	if len(sets) < 2 {
		panic(fmt.Sprintf("selectivity: Analyze needs at least 2 sets, got %d", len(sets)))
	}
	if cfg.Keep == 0 {
		cfg.Keep = DefaultKeep
	}
	if !(cfg.Keep >= 0 && cfg.Keep <= 1) {
		panic(fmt.Sprintf("selectivity: keep fraction %v is outside [0, 1]", cfg.Keep))
	}
	first := sets[0]
	for i, s := range sets {
		if s == nil || s.Set == nil {
			panic(fmt.Sprintf("selectivity: Analyze: set %d is nil", i))
		}
		if len(s.Units) != len(s.Resp) {
			panic(fmt.Sprintf("selectivity: set %s has %d unit names and %d response matrices", s.Set.Name, len(s.Units), len(s.Resp)))
		}
		if !slices.Equal(s.Units, first.Units) {
			panic(fmt.Sprintf("selectivity: set %s has units %v, set %s has %v", s.Set.Name, s.Units, first.Set.Name, first.Units))
		}
		for j, r := range s.Resp {
			if r == nil || r.Rank() != 2 || r.Dim(0) != len(s.Set.Images) || r.Dim(1) != first.Resp[j].Dim(1) {
				var shape []int
				if r != nil {
					shape = r.Shape()
				}
				panic(fmt.Sprintf("selectivity: set %s unit %s: responses %v, want [%d %d]",
					s.Set.Name, s.Units[j], shape, len(s.Set.Images), first.Resp[j].Dim(1)))
			}
		}
	}
	for _, s := range sets {
		if err := CheckSet(s.Set); err != nil {
			return nil, err
		}
	}
	st := &Study{Config: cfg, Sets: sets}
	for j, name := range first.Units {
		l := Layer{Name: name, Channels: first.Resp[j].Dim(1)}
		for _, s := range sets {
			r, err := Index(s.Resp[j], s.Set.Labels(), cfg.Index)
			if err != nil {
				return nil, fmt.Errorf("set %s unit %s: %w", s.Set.Name, name, err) // unreachable after CheckSet
			}
			l.Results = append(l.Results, r)
			l.Selections = append(l.Selections, r.Select(cfg.Keep))
		}
		l.Overlap = Overlaps(cfg.Chance, l.Selections...)
		st.Layers = append(st.Layers, l)
	}
	return st, nil
}

// Names returns the sets' names.
func (s *Study) Names() []string {
	out := make([]string, len(s.Sets))
	for i, r := range s.Sets {
		out[i] = r.Set.Name
	}
	return out
}

// Summaries returns the SI summary of every layer and set
// ([layer][set]): Fig 3A's per-layer SI distributions.
func (s *Study) Summaries() [][]Summary {
	out := make([][]Summary, len(s.Layers))
	for i, l := range s.Layers {
		out[i] = Summaries(l.Results)
	}
	return out
}

// Shared returns, per layer and emotion, the number of channels selective
// for the emotion in every set: Fig 3B's counts.
func (s *Study) Shared() [][stimuli.NumEmotions]int {
	ov := make([][stimuli.NumEmotions]Overlap, len(s.Layers))
	for i, l := range s.Layers {
		ov[i] = l.Overlap
	}
	return Shared(ov)
}

// Overlaps finds, per emotion, the channels selective for it in every one
// of the selections (two or more, of one layer on different stimulus
// sets) and compares their number with the overlap of independent random
// selections of the same sizes drawn from the population chance chooses.
// Compare is Overlaps(ChanceValid, a, b).
//
// For two sets, Expected is N1·N2/Population and P is UpperTail; for more,
// Expected is Population·Π(N_i/Population) and P is IntersectTail. It
// panics if fewer than two selections are given or their widths differ.
func Overlaps(chance Chance, sels ...*Selection) [stimuli.NumEmotions]Overlap {
	if len(sels) < 2 {
		panic(fmt.Sprintf("selectivity: Overlaps of %d selections, want at least 2", len(sels)))
	}
	c := len(sels[0].Kept)
	for _, s := range sels[1:] {
		if len(s.Kept) != c {
			panic(fmt.Sprintf("selectivity: Overlaps of selections with %d and %d channels", c, len(s.Kept)))
		}
	}
	views := make([]selView, len(sels))
	for q, s := range sels {
		views[q] = selView{valid: s.Valid, selective: s.Selective[:]}
	}
	var out [stimuli.NumEmotions]Overlap
	for e, o := range overlaps(chance, c, int(stimuli.NumEmotions), views) {
		out[e] = Overlap{Emotion: stimuli.Category(e), Channels: o.Channels, Population: o.Population,
			N: o.N, N1: o.N[0], N2: o.N[1], Expected: o.Expected, P: o.P}
	}
	return out
}

// selView is what overlaps reads of a selection: which channels are valid
// and, per class, the selective channels in ascending order.
type selView struct {
	valid     []bool
	selective [][]int
}

// overlaps is the shared core of Overlaps and OverlapsK: for each of k
// classes, the channels selective in every one of sels (c channels each),
// the per-set counts within the population chance chooses, the expected
// overlap of independent draws of those sizes and its upper tail.
func overlaps(chance Chance, c, k int, sels []selView) []OverlapK {
	if chance != ChanceAll && chance != ChanceValid {
		panic(fmt.Sprintf("selectivity: unknown %v", chance))
	}
	valid := make([]bool, c)
	pop := 0
	for i := range valid {
		valid[i] = true
		for _, s := range sels {
			valid[i] = valid[i] && s.valid[i]
		}
		if valid[i] {
			pop++
		}
	}
	if chance == ChanceAll {
		pop = c
	}
	out := make([]OverlapK, k)
	for e := range k {
		o := OverlapK{Class: e, Population: pop, N: make([]int, len(sels))}
		for q, s := range sels {
			for _, i := range s.selective[e] {
				if chance == ChanceAll || valid[i] {
					o.N[q]++
				}
			}
		}
		for _, i := range sels[0].selective[e] {
			in := true
			for _, s := range sels[1:] {
				if _, found := slices.BinarySearch(s.selective[e], i); !found {
					in = false
					break
				}
			}
			if in {
				o.Channels = append(o.Channels, i)
			}
		}
		if pop > 0 {
			o.Expected = float64(pop)
			for _, n := range o.N {
				o.Expected *= float64(n) / float64(pop)
			}
		}
		// For two sets IntersectTail is UpperTail.
		o.P = IntersectTail(pop, o.N, len(o.Channels))
		out[e] = o
	}
	return out
}

// IntersectTail returns P(|S_1 ∩ … ∩ S_m| >= k) for independent subsets
// S_i of sizes[i] items, each drawn uniformly without replacement from pop
// items. For m = 2 it is UpperTail(pop, sizes[0], sizes[1], k). For more
// sets it follows the size of the running intersection exactly: it starts
// at sizes[0], and intersecting with S_j turns x into a hypergeometric
// count of x marked among sizes[j] drawn; the distribution is propagated
// in float64 and the upper tail summed, smallest terms first. It panics on
// an empty sizes or on sizes outside [0, pop].
func IntersectTail(pop int, sizes []int, k int) float64 {
	if len(sizes) == 0 || pop < 0 {
		panic(fmt.Sprintf("selectivity: IntersectTail of %v from %d", sizes, pop))
	}
	for _, s := range sizes {
		if s < 0 || s > pop {
			panic(fmt.Sprintf("selectivity: IntersectTail: subset of %d from population %d", s, pop))
		}
	}
	if len(sizes) == 2 {
		return UpperTail(pop, sizes[0], sizes[1], k)
	}
	dist := make([]float64, sizes[0]+1)
	dist[sizes[0]] = 1
	for _, d := range sizes[1:] {
		next := make([]float64, min(len(dist)-1, d)+1)
		den := logChoose(pop, d)
		for x, px := range dist {
			if px == 0 {
				continue
			}
			for y := max(0, d-(pop-x)); y <= min(x, d); y++ {
				next[y] += px * math.Exp(logChoose(x, y)+logChoose(pop-x, d-y)-den)
			}
		}
		dist = next
	}
	p := 0.0
	for x := len(dist) - 1; x >= max(k, 0); x-- {
		p += dist[x]
	}
	return min(p, 1)
}

// PaperLayers returns the indices of an early, a middle and a deep layer
// among n conv layers, placed as the paper's Fig 2 places them in VGG-16
// (layers 3, 6 and 13 of 13: conv2_1, conv3_2, conv5_3): round(2(n−1)/12),
// round(5(n−1)/12) and n−1. For AlexNet's five that is conv2, conv3 and
// conv5. It panics if n < 1.
func PaperLayers(n int) [3]int {
	if n < 1 {
		panic(fmt.Sprintf("selectivity: PaperLayers(%d)", n))
	}
	f := func(num int) int { return int(math.Round(float64(num*(n-1)) / 12)) }
	return [3]int{f(2), f(5), n - 1}
}

// Exemplar is the neuron a layer shows for an emotion in Fig 2.
type Exemplar struct {
	Layer   int // index into Study.Layers
	Emotion stimuli.Category
	// Channel is the channel selective for Emotion in every set whose
	// smallest SI across the sets is largest; if no channel is, the
	// channel with a finite SI preferring Emotion in every set ranked the
	// same way; −1 if none prefers Emotion in every set.
	Channel int
	Shared  bool // Channel is selective for Emotion in every set
}

// Exemplar picks layer's neuron for emotion e (see the type). Ties go to
// the lower channel.
func (s *Study) Exemplar(layer int, e stimuli.Category) Exemplar {
	l := &s.Layers[layer]
	ex := Exemplar{Layer: layer, Emotion: e, Channel: -1}
	best := math.Inf(-1)
	score := func(c int) float64 {
		m := math.Inf(1)
		for _, r := range l.Results {
			m = min(m, r.Neurons[c].SI)
		}
		return m
	}
	for _, c := range l.Overlap[e].Channels {
		if v := score(c); v > best {
			ex.Channel, ex.Shared, best = c, true, v
		}
	}
	if ex.Channel >= 0 {
		return ex
	}
	for c := range l.Channels {
		all := true
		for _, r := range l.Results {
			all = all && r.Neurons[c].Flaw == OK && r.Neurons[c].Preferred == e
		}
		if v := score(c); all && v > best {
			ex.Channel, best = c, v
		}
	}
	return ex
}

// Top returns the rows of the n images of set (an index into Study.Sets)
// that drive channel of layer most, strongest first, Unknown images left
// out (Top on the set's responses; n == 0 means DefaultTop).
func (s *Study) Top(layer, set, channel, n int) []int {
	r := s.Sets[set]
	return Top(r.Resp[layer], r.Set.Labels(), channel, n)
}

// Null is the permutation null distribution of a Study's overlaps: the
// overlap that the same analysis finds when each set's category labels
// are shuffled. It needs no assumption about how channels depend on each
// other, unlike the hypergeometric model of Overlap.P (see the package
// documentation).
type Null struct {
	Permutations int
	Mean         [][stimuli.NumEmotions]float64 // [layer][emotion] mean overlap over the permutations
	// P is the permutation p-value (1 + #{overlap >= observed}) /
	// (1 + Permutations), [layer][emotion]: never below
	// 1/(1+Permutations).
	P [][stimuli.NumEmotions]float64
}

// Permute runs the analysis of s again n times with every set's labels
// (Unknown included) shuffled independently, and returns the null
// distribution of each layer's overlaps. Permutation k draws from a PCG
// generator seeded with (seed, k), so the result does not depend on how
// the permutations are spread over goroutines (it uses GOMAXPROCS). ctx is
// checked between permutations. It panics if n < 1.
func Permute(ctx context.Context, s *Study, n int, seed uint64) (*Null, error) {
	if n < 1 {
		panic(fmt.Sprintf("selectivity: Permute with %d permutations", n))
	}
	nl := len(s.Layers)
	counts := make([][][stimuli.NumEmotions]int, n) // [perm][layer][emotion]
	labels := make([][]stimuli.Category, len(s.Sets))
	for k, r := range s.Sets {
		labels[k] = r.Set.Labels()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p := int(next.Add(1) - 1)
				if p >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				rng := rand.New(rand.NewPCG(seed, uint64(p)))
				perm := make([][]stimuli.Category, len(labels))
				for k, l := range labels {
					perm[k] = slices.Clone(l)
					rng.Shuffle(len(l), func(i, j int) { perm[k][i], perm[k][j] = perm[k][j], perm[k][i] })
				}
				counts[p] = make([][stimuli.NumEmotions]int, nl)
				for j, l := range s.Layers {
					sels := make([]*Selection, len(s.Sets))
					for k, r := range s.Sets {
						res, err := Index(r.Resp[j], perm[k], s.Config.Index)
						if err != nil {
							errs[w] = fmt.Errorf("set %s unit %s: %w", r.Set.Name, l.Name, err) // unreachable: same counts as s
							return
						}
						sels[k] = res.Select(s.Config.Keep)
					}
					for e, o := range Overlaps(s.Config.Chance, sels...) {
						counts[p][j][e] = len(o.Channels)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	null := &Null{Permutations: n, Mean: make([][stimuli.NumEmotions]float64, nl), P: make([][stimuli.NumEmotions]float64, nl)}
	for j, l := range s.Layers {
		for e := range stimuli.NumEmotions {
			obs := len(l.Overlap[e].Channels)
			sum, above := 0, 0
			for p := range n {
				c := counts[p][j][e]
				sum += c
				if c >= obs {
					above++
				}
			}
			null.Mean[j][e] = float64(sum) / float64(n)
			null.P[j][e] = float64(1+above) / float64(1+n)
		}
	}
	return null, nil
}
