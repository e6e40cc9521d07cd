package study

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// tinyModel is a reduced VGG-16 (4…32 channels, fc6/fc7 of 64) with
// PyTorch's default init of fc6 and fc7, for 32×32 images.
func tinyModel() *nn.Model { return tinyModelOf(vgg.Config{Width: 1.0 / 16, Hidden: 64, Classes: 10}) }

// tinyModelOf is tinyModel's network at another width.
func tinyModelOf(c vgg.Config) *nn.Model {
	m := vgg.New(c, tensor.NewRNG(3))
	rng := tensor.NewRNG(4)
	for _, name := range []string{"fc6", "fc7"} {
		u, _ := m.Unit(name)
		l := m.Net.Layer(u.Layer).(*nn.Linear)
		w, b := tensor.New(l.Weight().Shape()...), tensor.New(l.Bias().Shape()...)
		rng.KaimingUniformDefault(w)
		rng.BiasUniformDefault(b, w.Shape())
		l.SetWeights(w, b)
	}
	return m
}

const size = 32

var (
	setsOnce sync.Once
	testSets []Set
	fromDir  string
)

// fixture returns two synthetic sets and a selectivity output directory
// made from them with the selectivity package (keep 0.5), shared by the
// tests.
func fixture(t *testing.T) ([]Set, string) {
	t.Helper()
	setsOnce.Do(func() {
		m := tinyModel()
		dir, err := os.MkdirTemp("", "emosel-study-from-")
		if err != nil {
			panic(err)
		}
		fromDir = dir
		var sels []map[string]*selectivity.Selection
		var results []map[string]*selectivity.Result
		for k, name := range []string{"alpha", "beta"} {
			st := stimuli.Synthetic(name, 120, uint64(20+k), size)
			s, err := FromSet(st, imagenet.Config{Size: size})
			if err != nil {
				panic(err)
			}
			testSets = append(testSets, s)
			resp := map[string]*tensor.Tensor{}
			m.Record(func(unit string, means *tensor.Tensor) { resp[unit] = means })
			x, err := s.Images.Load(context.Background(), allIndices(s.Images.Len()))
			if err != nil {
				panic(err)
			}
			m.Forward(x)
			m.Record(nil)
			sel, res := map[string]*selectivity.Selection{}, map[string]*selectivity.Result{}
			for _, u := range m.ConvUnits() {
				r, err := selectivity.Index(resp[u.Name], s.Labels, selectivity.Config{})
				if err != nil {
					panic(err)
				}
				res[u.Name], sel[u.Name] = r, r.Select(0.5)
			}
			sels, results = append(sels, sel), append(results, res)
		}
		writeFrom(dir, m, []string{"alpha", "beta"}, results, sels)
	})
	return testSets, fromDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fromDir != "" {
		os.RemoveAll(fromDir)
	}
	os.Exit(code)
}

// writeFrom writes selectivity.csv and selective.csv as the selectivity
// stage does: SI and preferred emotion per set, layer and channel, and
// the channels selective for the same emotion in both sets.
func writeFrom(dir string, m *nn.Model, sets []string, res []map[string]*selectivity.Result, sels []map[string]*selectivity.Selection) {
	f, _ := os.Create(filepath.Join(dir, SelectivityFile))
	w := csv.NewWriter(f)
	w.Write([]string{"set", "layer", "channel", "tuning_pleasant", "tuning_neutral", "tuning_unpleasant",
		"dprime_pleasant", "dprime_neutral", "dprime_unpleasant", "si", "preferred"})
	for k, set := range sets {
		for _, u := range m.ConvUnits() {
			for c, n := range res[k][u.Name].Neurons {
				row := []string{set, u.Name, strconv.Itoa(c)}
				for e := range stimuli.NumEmotions {
					row = append(row, strconv.FormatFloat(n.Tuning[e], 'g', -1, 64))
				}
				for e := range stimuli.NumEmotions {
					row = append(row, strconv.FormatFloat(n.DPrime[e], 'g', -1, 64))
				}
				w.Write(append(row, strconv.FormatFloat(n.SI, 'g', -1, 64), n.Preferred.String()))
			}
		}
	}
	w.Flush()
	f.Close()
	f, _ = os.Create(filepath.Join(dir, SelectiveFile))
	w = csv.NewWriter(f)
	w.Write([]string{"layer", "channel", "emotion"})
	for _, u := range m.ConvUnits() {
		o := selectivity.Compare(sels[0][u.Name], sels[1][u.Name])
		for e := range stimuli.NumEmotions {
			for _, c := range o[e].Channels {
				w.Write([]string{u.Name, strconv.Itoa(c), e.String()})
			}
		}
	}
	w.Flush()
	f.Close()
}

func allIndices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// testConfig is a small study: two sets, two layers, all three stages
// with 2 random draws, gains {0, 1, 2} refined at 0.5, thresholds 0% and
// 50%.
func testConfig(t *testing.T) Config {
	sets, dir := fixture(t)
	from, err := ReadSelectivity(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := tinyModel()
	return Config{
		Model: m, ModelID: ParamsID(m), Input: "squash 32", Sets: sets, From: from,
		Layers:  []string{"conv4_3", "conv5_3"},
		Exp:     manipulate.Config{Draws: 2, Alphas: []float64{0, 1, 2}, Refine: 0.5},
		Readout: nn.TrainConfig{LR: 1e-2, Epochs: 20, Batch: 16},
		Removed: []float64{0, 0.5},
		Seed:    7,
	}
}
