package study

import (
	"math"
	"slices"
	"testing"
)

// TestShardsPrediction checks Study.Shards against two computations
// that do not go through it: for each shard i of n, the study opened as
// shard i/n (Open's own assignment, Mine) and
//   - a naive loop over its units that writes the rate formula out
//     (evaluations · Slope + prefixes · (Prefix + sets · Base), per stage,
//     plus the features of each set its units belong to);
//   - Predict's "this shard" column of the same study (every unit pending
//     in a fresh directory), features aside.
func TestShardsPrediction(t *testing.T) {
	cfg := testConfig(t)
	cfg.DryRun = true
	dir := t.TempDir()
	s, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Made-up rates, distinct per layer, so that a unit counted in the
	// wrong shard or at the wrong layer's rate shows.
	e := &Estimate{Features: 0.013, Rates: []Rate{
		{Layer: "conv5_3", Slope: 0.0021, Prefix: 0.017, Base: 0.0031},
		{Layer: "conv4_3", Slope: 0.0057, Prefix: 0.011, Base: 0.0019},
	}}
	rate := map[string]Rate{}
	for _, r := range e.Rates {
		rate[r.Layer] = r
	}
	units := len(s.Units())
	if units < 4 {
		t.Fatalf("%d units: the fixture is too small for this test", units)
	}
	whole := s.Predict(e.Rates, e.Features)
	all, _ := whole.Total()
	all -= whole.Stages[0].Time // the features: once per set unsharded, once per set and shard sharded
	for _, n := range []int{1, 2, 3, 5, units - 1, units, units + 3} {
		got := s.Shards(e, n)
		if len(got) != n {
			t.Fatalf("n=%d: %d shards", n, len(got))
		}
		var sum, slowest float64
		for i := range n {
			c := cfg
			c.Shard, c.Shards = i, n
			si, err := Open(dir, c)
			if err != nil {
				t.Fatal(err)
			}
			mine := si.Mine()
			var want, feats float64
			seen := map[int]bool{}
			for _, u := range mine {
				r := rate[si.layers[u.Layer].Name]
				for _, st := range si.cfg.Stages {
					evals, prefixes, sets := si.work(st, u)
					want += float64(evals)*r.Slope + float64(prefixes)*(r.Prefix+float64(sets)*r.Base)
				}
				if !seen[u.Set] {
					seen[u.Set] = true
					sp := si.splits[u.Set]
					feats += float64(len(sp.Train)+len(sp.Val)+len(sp.Test)) * e.Features
				}
			}
			var predicted float64 // Predict's "this shard", features aside
			for _, st := range si.Predict(e.Rates, e.Features).Stages[1:] {
				predicted += st.Shard
			}
			g := got[i]
			if g.Shard != i || !slices.Equal(g.Units, mine) {
				t.Errorf("n=%d shard %d: units %v, Open assigns %v", n, i, g.Units, mine)
			}
			if !nearly(g.Features, feats) || !nearly(g.Time, want+feats) || !nearly(g.Time-g.Features, predicted) {
				t.Errorf("n=%d shard %d: %.6f s (features %.6f), naive loop %.6f (features %.6f), Predict %.6f",
					n, i, g.Time, g.Features, want+feats, feats, predicted)
			}
			if len(mine) == 0 && g.Time != 0 {
				t.Errorf("n=%d shard %d has no units but takes %v s", n, i, g.Time)
			}
			sum += g.Time - g.Features
			slowest = max(slowest, g.Time-g.Features)
		}
		if !nearly(sum, all) {
			t.Errorf("n=%d: the shards add up to %.6f s, the whole study is %.6f", n, sum, all)
		}
		if slowest < all/float64(n)*(1-1e-12) {
			t.Errorf("n=%d: slowest shard %.6f s is below the mean %.6f", n, slowest, all/float64(n))
		}
	}
}

func nearly(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(b)) }
