package nn

import (
	"context"
	"fmt"
	"math"

	"github.com/emosel/emosel/tensor"
)

// Optimizer selects the update rule of a Trainer.
type Optimizer uint8

const (
	// Adam is torch.optim.Adam (amsgrad off): the paper's choice.
	Adam Optimizer = iota
	// SGD is torch.optim.SGD with optional momentum (no dampening, no
	// Nesterov).
	SGD
)

func (o Optimizer) String() string {
	switch o {
	case Adam:
		return "adam"
	case SGD:
		return "sgd"
	}
	return fmt.Sprintf("Optimizer(%d)", uint8(o))
}

// TrainConfig configures the training of a linear head. The zero value is
// the paper's recipe: Adam, learning rate 1e-3, 10 epochs, batches of
// 128, with torch's Adam defaults (β = 0.9, 0.999, ε = 1e-8).
type TrainConfig struct {
	Optimizer    Optimizer
	LR           float64 // 0 means 1e-3
	Epochs       int     // 0 means 10
	Batch        int     // 0 means 128
	Momentum     float64 // SGD only; 0 is plain SGD
	Beta1, Beta2 float64 // Adam; 0 means 0.9 and 0.999
	Eps          float64 // Adam; 0 means 1e-8
	WeightDecay  float64 // L2 penalty added to the gradient, as torch's weight_decay
	// Seed drives the per-epoch shuffle of Train (one tensor.RNG, one
	// Perm per epoch, as a DataLoader with shuffle=True and
	// drop_last=False). Initialisation is the caller's: build the layer
	// with NewLinear(tensor.NewRNG(seed), in, k) for PyTorch's default.
	Seed uint64
	// ClassWeight, if set, weights each class's cross-entropy as torch's
	// CrossEntropyLoss(weight=ClassWeight) does: a batch's loss is
	// Σ w[y]·ℓ / Σ w[y]. It has one entry per class, each ≥ 0. Nil is
	// the unweighted loss (the same bits as before the field existed).
	ClassWeight []float64 `json:",omitempty"`
	// Balanced makes Train weight the classes by n/(k·n_c) of its labels
	// (scikit-learn's class_weight="balanced"), so that a minority class
	// counts as much as the rest: a one-vs-rest readout then cannot
	// minimise the loss by always answering "no". Train only (a Trainer
	// takes ClassWeight); it panics with ClassWeight also set.
	Balanced bool `json:",omitempty"`
}

// BalancedWeights returns the weights n/(k·n_c) of the classes 0..k-1 of
// labels y (n = len(y), n_c the count of class c; 0 for an absent
// class): scikit-learn's compute_class_weight("balanced"). It panics on
// a label outside [0, k).
func BalancedWeights(y []int, k int) []float64 {
	n := make([]int, k)
	for i, c := range y {
		if c < 0 || c >= k {
			panic(fmt.Sprintf("nn: label %d of row %d is outside [0, %d)", c, i, k))
		}
		n[c]++
	}
	w := make([]float64, k)
	for c, nc := range n {
		if nc > 0 {
			w[c] = float64(len(y)) / float64(k*nc)
		}
	}
	return w
}

// WithDefaults returns c with every zero field replaced by its default.
func (c TrainConfig) WithDefaults() TrainConfig {
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.Epochs == 0 {
		c.Epochs = 10
	}
	if c.Batch == 0 {
		c.Batch = 128
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	return c
}

// check panics on settings no optimizer accepts.
func (c TrainConfig) check() {
	ok := c.LR > 0 && c.Epochs > 0 && c.Batch > 0 && c.Momentum >= 0 && c.WeightDecay >= 0 &&
		c.Beta1 > 0 && c.Beta1 < 1 && c.Beta2 > 0 && c.Beta2 < 1 && c.Eps > 0 &&
		(c.Optimizer == Adam || c.Optimizer == SGD)
	for _, w := range c.ClassWeight {
		ok = ok && w >= 0 && !math.IsInf(w, 0)
	}
	if !ok {
		panic(fmt.Sprintf("nn: invalid TrainConfig %+v", c))
	}
}

// Trainer fits a Linear layer [k,in] as a k-class softmax classifier by
// minibatch cross-entropy (torch's CrossEntropyLoss, mean over the
// batch), one optimizer step at a time.
//
// Arithmetic is sequential and in a fixed order, so a given layer, data,
// batch order and config always give the same bits: logits, softmax and
// gradients are accumulated in float64 over rows in batch order and
// features in index order, then rounded to float32; the parameters and the
// optimizer state are float32 and updated element by element with torch's
// formulas. The results match PyTorch to float32 rounding, not bit for
// bit (torch's GEMM sums in another order).
type Trainer struct {
	l      *Linear
	cfg    TrainConfig
	k, in  int
	p      []float32 // parameters: weight [k*in] then bias [k]
	m, v   []float32 // Adam moments; m is SGD's momentum buffer
	g      []float32 // gradient of the last step
	acc    []float64 // gradient accumulator
	z, dz  []float64 // logits and their gradient for one row
	step   int
	hasBuf bool // SGD momentum buffer initialised
}

// NewTrainer returns a Trainer that updates l in place. It panics on an
// invalid config (a negative rate or size, β outside (0, 1)).
func NewTrainer(l *Linear, cfg TrainConfig) *Trainer {
	cfg = cfg.WithDefaults()
	cfg.check()
	k, in := l.weight.Dim(0), l.weight.Dim(1)
	if cfg.ClassWeight != nil && len(cfg.ClassWeight) != k {
		panic(fmt.Sprintf("nn: %d class weights for a Linear of %d outputs", len(cfg.ClassWeight), k))
	}
	if cfg.Balanced {
		panic("nn: a Trainer takes ClassWeight; Balanced is Train's")
	}
	n := k*in + k
	t := &Trainer{l: l, cfg: cfg, k: k, in: in,
		p: make([]float32, n), m: make([]float32, n), v: make([]float32, n),
		g: make([]float32, n), acc: make([]float64, n),
		z: make([]float64, k), dz: make([]float64, k)}
	copy(t.p, l.weight.Data())
	copy(t.p[k*in:], l.bias.Data())
	return t
}

// Config returns the configuration in use, defaults filled in.
func (t *Trainer) Config() TrainConfig { return t.cfg }

// Steps returns the number of optimizer steps taken.
func (t *Trainer) Steps() int { return t.step }

// Step takes one optimizer step on the minibatch of rows of x [N,in] with
// class labels y (len N, each in [0,k)), in the order given, writes the
// new parameters into the layer and returns the batch's mean
// cross-entropy before the step (weighted by ClassWeight if set). It
// panics if shapes, labels or rows are out of range, or rows is empty.
func (t *Trainer) Step(x *tensor.Tensor, y []int, rows []int) float64 {
	if x.Rank() != 2 || x.Dim(1) != t.in {
		panic(fmt.Sprintf("nn: Trainer.Step input %v, want [N %d]", x.Shape(), t.in))
	}
	if len(y) != x.Dim(0) {
		panic(fmt.Sprintf("nn: Trainer.Step has %d labels for input %v", len(y), x.Shape()))
	}
	if len(rows) == 0 {
		panic("nn: Trainer.Step with an empty batch")
	}
	k, in := t.k, t.in
	data := x.Data()
	w, b := t.p[:k*in], t.p[k*in:]
	clear(t.acc)
	gw, gb := t.acc[:k*in], t.acc[k*in:]
	cw := t.cfg.ClassWeight
	var wsum float64
	for _, r := range rows {
		if r < 0 || r >= len(y) {
			panic(fmt.Sprintf("nn: Trainer.Step row %d out of range [0, %d)", r, len(y)))
		}
		c := y[r]
		if c < 0 || c >= k {
			panic(fmt.Sprintf("nn: Trainer.Step label %d of row %d is outside [0, %d)", c, r, k))
		}
		if cw != nil {
			wsum += cw[c]
		}
	}
	// Unweighted, every row weighs 1 and the sum is the batch size (the
	// same bits as without weights). A batch whose rows all weigh 0 has
	// no gradient (torch's would be NaN).
	inv := 1 / float64(len(rows))
	if cw != nil {
		inv = 0
		if wsum > 0 {
			inv = 1 / wsum
		}
	}
	var loss float64
	for _, r := range rows {
		c := y[r]
		wr := 1.0
		if cw != nil {
			wr = cw[c]
		}
		xr := data[r*in : (r+1)*in]
		zmax := math.Inf(-1)
		for i := range k {
			s := float64(b[i])
			wi := w[i*in : (i+1)*in]
			for j, v := range xr {
				s += float64(wi[j]) * float64(v)
			}
			t.z[i] = s
			zmax = max(zmax, s)
		}
		var sum float64
		for i := range k {
			sum += math.Exp(t.z[i] - zmax)
		}
		lse := zmax + math.Log(sum)
		loss += (lse - t.z[c]) * wr
		for i := range k {
			d := math.Exp(t.z[i] - lse)
			if i == c {
				d--
			}
			t.dz[i] = d * wr * inv
		}
		for i := range k {
			d := t.dz[i]
			gb[i] += d
			gi := gw[i*in : (i+1)*in]
			for j, v := range xr {
				gi[j] += d * float64(v)
			}
		}
	}
	for i, a := range t.acc {
		t.g[i] = float32(a)
	}
	t.update()
	t.l.SetWeights(tensor.From(t.p[:k*in], k, in), tensor.From(t.p[k*in:], k))
	return loss * inv
}

// update applies one optimizer step to t.p from t.g, as torch 1.13's
// single-tensor Adam and SGD do in float32.
func (t *Trainer) update() {
	t.step++
	c := t.cfg
	wd := float32(c.WeightDecay)
	switch c.Optimizer {
	case Adam:
		b1, b2 := float32(c.Beta1), float32(c.Beta2)
		a1, a2 := float32(1-c.Beta1), float32(1-c.Beta2)
		bc1 := 1 - math.Pow(c.Beta1, float64(t.step))
		bc2 := 1 - math.Pow(c.Beta2, float64(t.step))
		stepSize := float32(c.LR / bc1)
		bc2s := float32(math.Sqrt(bc2))
		eps := float32(c.Eps)
		for i, g := range t.g {
			if wd != 0 {
				g = g + float32(wd*t.p[i])
			}
			t.m[i] = float32(t.m[i]*b1) + float32(a1*g)
			t.v[i] = float32(t.v[i]*b2) + float32(float32(a2*g)*g)
			den := float32(float32(math.Sqrt(float64(t.v[i])))/bc2s) + eps
			t.p[i] = t.p[i] - float32(stepSize*float32(t.m[i]/den))
		}
	case SGD:
		lr, mom := float32(c.LR), float32(c.Momentum)
		for i, g := range t.g {
			if wd != 0 {
				g = g + float32(wd*t.p[i])
			}
			if mom != 0 {
				if t.hasBuf {
					t.m[i] = float32(t.m[i]*mom) + g
				} else {
					t.m[i] = g
				}
				g = t.m[i]
			}
			t.p[i] = t.p[i] - float32(lr*g)
		}
		t.hasBuf = true
	}
}

// Epoch takes one step per consecutive batch of order (the last batch may
// be short) and returns the mean loss over the epoch's samples.
func (t *Trainer) Epoch(x *tensor.Tensor, y []int, order []int) float64 {
	var loss float64
	for i := 0; i < len(order); i += t.cfg.Batch {
		rows := order[i:min(i+t.cfg.Batch, len(order))]
		loss += t.Step(x, y, rows) * float64(len(rows))
	}
	return loss / float64(len(order))
}

// Train fits l [k,in] to the rows of x [N,in] with labels y in [0,k) for
// cfg.Epochs epochs, shuffling the rows each epoch with one tensor.RNG
// seeded by cfg.Seed, and returns each epoch's mean loss. It checks ctx
// between epochs. Same inputs and config give the same weights to the
// last bit. It panics on mismatched shapes or labels out of range, and
// returns ctx's error if it is cancelled (l then holds the weights of the
// last finished step).
func Train(ctx context.Context, l *Linear, x *tensor.Tensor, y []int, cfg TrainConfig) ([]float64, error) {
	if cfg.Balanced {
		if cfg.ClassWeight != nil {
			panic("nn: TrainConfig with both Balanced and ClassWeight")
		}
		cfg.Balanced, cfg.ClassWeight = false, BalancedWeights(y, l.weight.Dim(0))
	}
	t := NewTrainer(l, cfg)
	if x.Dim(0) == 0 {
		panic("nn: Train with no rows")
	}
	rng := tensor.NewRNG(t.cfg.Seed)
	losses := make([]float64, 0, t.cfg.Epochs)
	for range t.cfg.Epochs {
		if err := ctx.Err(); err != nil {
			return losses, err
		}
		losses = append(losses, t.Epoch(x, y, rng.Perm(x.Dim(0))))
	}
	return losses, nil
}
