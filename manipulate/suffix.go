package manipulate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// DefaultBudget bounds, in bytes, the activations a chunk of images may
// hold (the cached pre-gain activations plus the suffix's working set).
const DefaultBudget = 1 << 30

// DefaultFeatures is the readout's input: fc7's post-ReLU output.
const DefaultFeatures = "fc7"

// Suffix re-runs a network from one unit's ReLU to the readout features
// (a later unit's post-ReLU output, fc7 by default), with a gain vector in
// place of the unit's own:
//
//	h = net[0 : u.ReLU](x)              the unit's pre-gain output, cached
//	features = net[u.ReLU+1 : end]( (1+α_c)·max(0, h) )
//
// The gain is applied by a ReLU of Suffix's own, so the model is never
// changed and a Suffix may run from several goroutines at once (with the
// model's own gains left alone). For a given image the features are
// bitwise those of a full forward with the gain installed on the unit
// (Model.SetGain), whatever the batch: the GEMM's summation order depends
// only on the layer shapes.
//
// For a model over an nn.Graph (a DAG read from ONNX), h is the graph's
// cut at the unit (nn.Cut: the unit's output and what the rest reads
// from before it, such as a residual block's skip input), the gain is
// applied by the cut, and the next layer's linear reuse is off.
type Suffix struct {
	m      *nn.Model
	unit   nn.Unit
	end    int
	trace  Trace
	linear *linearStep // nil: no reuse of the next layer
	cut    nn.Cut      // the model's Graph cut at the unit, or nil
	image  []int       // [C,H,W], for a graph
	feats  int         // the features' width, for a graph
}

// NewSuffix returns the suffix of m from unit layer to the post-ReLU
// output of unit features ("" means DefaultFeatures), for images of
// shape image [C,H,W]. It panics on unknown units or if features comes
// before layer.
func NewSuffix(m *nn.Model, layer, features string, image []int) *Suffix {
	if features == "" {
		features = DefaultFeatures
	}
	u, end := units(m, layer, features)
	if m.Graph != nil {
		// A graph: the cut caches what does not depend on the unit; the
		// next layer's linear reuse is not implemented there.
		f, _ := m.Unit(features)
		return &Suffix{m: m, unit: u, end: end, cut: m.Graph.Cut(layer, features), image: slices.Clone(image), feats: f.Channels}
	}
	tr := TraceNet(m.Net, image)
	return &Suffix{m: m, unit: u, end: end, trace: tr, linear: findLinear(m, u, end, tr)}
}

// Direct turns off the reuse of the next linear layer (linear.go): every
// gain then re-runs the whole suffix, and the features are bitwise those
// of a full forward with the gain installed. It returns s.
func (s *Suffix) Direct() *Suffix {
	s.linear = nil
	return s
}

// Reuses reports whether gains on unit sets reuse the next linear layer.
func (s *Suffix) Reuses() bool { return s.linear != nil }

// Unit returns the manipulated unit.
func (s *Suffix) Unit() nn.Unit { return s.unit }

// FLOPs returns the suffix's floating-point operations per image.
func (s *Suffix) FLOPs() float64 {
	if s.cut != nil {
		_, f := s.cut.FLOPs()
		return f
	}
	return s.trace.Span(s.unit.ReLU+1, s.end)
}

// PrefixFLOPs returns the prefix's floating-point operations per image.
func (s *Suffix) PrefixFLOPs() float64 {
	if s.cut != nil {
		f, _ := s.cut.FLOPs()
		return f
	}
	return s.trace.Span(0, s.unit.ReLU)
}

// Prefix returns the unit's pre-gain output for the batch x: the output
// of its Conv2d or Linear, before the ReLU. [N,C,H,W] -> [N,C',...]
// For a graph model it is the cut (nn.Cut.Prefix), [N,D].
func (s *Suffix) Prefix(x *tensor.Tensor) *tensor.Tensor {
	if s.cut != nil {
		return s.cut.Prefix(x)
	}
	return s.m.Net.ForwardRange(0, s.unit.ReLU, x)
}

// gain applies gain to h, a batch of Prefix outputs, as the unit's ReLU
// would.
func (s *Suffix) gain(h *tensor.Tensor, gain []float32) *tensor.Tensor {
	if s.cut != nil {
		return s.cut.Gain(h, gain)
	}
	return (&nn.ReLU{Gain: gain}).Forward(h)
}

// rest runs the network from the unit's gained output y to the features.
func (s *Suffix) rest(y *tensor.Tensor) *tensor.Tensor {
	if s.cut != nil {
		return s.cut.Rest(y)
	}
	return s.m.Net.ForwardRange(s.unit.ReLU+1, s.end, y)
}

// Run applies gain ([C], nil for none) to h, a batch of Prefix outputs,
// as the unit's ReLU would, and runs the rest of the network to the
// readout features. h is not modified. [N,C',...] -> [N,F]
func (s *Suffix) Run(h *tensor.Tensor, gain []float32) *tensor.Tensor {
	y := s.gain(h, gain)
	out := s.rest(y)
	return out.Reshape(out.Dim(0), out.Len()/max(1, out.Dim(0)))
}

// Chunk returns how many images to process at once so that their cached
// pre-gain activations and the suffix's working set fit in budget bytes
// (0 means DefaultBudget); at least 1.
func (s *Suffix) Chunk(budget int64) int {
	if budget <= 0 {
		budget = DefaultBudget
	}
	if s.cut != nil {
		per := 4 * int64(2*s.cut.Width()+2*s.cut.Peak())
		return int(max(1, min(budget/per, 4096)))
	}
	h := s.trace.size(s.unit.Layer)
	per := 4 * int64(2*h+2*s.trace.peak(s.unit.ReLU, s.end))
	if s.linear != nil {
		// The base (u0, z0), a unit set's d_S and the batch of z.
		per += 4 * int64(s.trace.size(s.linear.next-1)+3*s.trace.size(s.linear.next))
	}
	return int(max(1, min(budget/per, 4096)))
}

// Predict evaluates the readout r on images idx of imgs for each gain
// vector in gains and returns the decisions, out[v][i] for gains[v] and
// image idx[i]. Images are taken in chunks of Chunk(budget); the prefix of
// each chunk is computed once and every gain's suffix re-run from it.
// When a chunk holds fewer images than the budget allows, several gains'
// copies of it are stacked into one batch, so that the fully connected
// layers, whose weights dominate memory traffic at small batches, run
// once per stack instead of once per gain. progress, if not nil, is
// called with the number of image-suffix evaluations done after each
// batch. Predict checks ctx between batches.
func (s *Suffix) Predict(ctx context.Context, imgs Images, idx []int, gains [][]float32, r *Readout, budget int64, progress func(int)) ([][]bool, error) {
	reqs := make([]*request, len(gains))
	for v, g := range gains {
		if g != nil && len(g) != s.unit.Channels {
			panic(fmt.Sprintf("manipulate: gain %d has %d values, %s has %d channels", v, len(g), s.unit.Name, s.unit.Channels))
		}
		reqs[v] = &request{gain: g, images: idx}
	}
	if err := s.run(ctx, imgs, reqs, r, budget, nil, progress); err != nil {
		return nil, err
	}
	out := make([][]bool, len(gains))
	for v, q := range reqs {
		out[v] = q.out
	}
	return out, nil
}

// request asks for the readout's decisions on some images under one
// gain vector: out[i] for images[i] (indices into the Images). A gain
// that is one α on a unit set says so in units and alpha, which lets the
// suffix reuse the next linear layer (linear.go).
type request struct {
	units  []int // nil: gain is arbitrary
	alpha  float64
	gain   []float32
	images []int
	out    []bool
}

// prefixCache keeps the pre-gain activations of images across calls of
// run, up to a number of bytes, so that a search's rounds compute each
// image's prefix once.
type prefixCache struct {
	rows  map[int][]float32
	shape []int // one image's
	room  int64 // bytes still free
}

func newPrefixCache(bytes int64) *prefixCache {
	return &prefixCache{rows: map[int][]float32{}, room: bytes}
}

// run fills every request's decisions. The images the requests need are
// taken in chunks of Chunk(budget); a chunk's prefix is computed once (or
// read from cache, which may be nil), and the requests' gained copies of
// their images in it are stacked into batches of up to a chunk of images
// for the suffix. An image's features do not depend on its batch, so the
// decisions are those of one forward per image and gain.
func (s *Suffix) run(ctx context.Context, imgs Images, reqs []*request, r *Readout, budget int64, cache *prefixCache, progress func(int)) error {
	var union []int
	pos := make([]map[int]int, len(reqs)) // image → index in the request
	for q, rq := range reqs {
		rq.out = make([]bool, len(rq.images))
		pos[q] = make(map[int]int, len(rq.images))
		for i, im := range rq.images {
			pos[q][im] = i
		}
		union = append(union, rq.images...)
	}
	slices.Sort(union)
	union = slices.Compact(union)
	if len(union) == 0 {
		return nil
	}
	chunk := s.Chunk(budget)
	for c0 := 0; c0 < len(union); c0 += chunk {
		ims := union[c0:min(c0+chunk, len(union))]
		h, err := s.prefixOf(ctx, imgs, ims, cache)
		if err != nil {
			return err
		}
		// The work in this chunk: each request's rows of h.
		var items []item
		for q := range reqs {
			var rows []int
			for k, im := range ims {
				if _, ok := pos[q][im]; ok {
					rows = append(rows, k)
				}
			}
			if len(rows) > 0 {
				items = append(items, item{q: q, rows: rows})
			}
		}
		// Linear items first, grouped by unit set, so that a batch is
		// of one kind and a unit set's d_S serves its gains in a row.
		lin := func(it item) bool { return s.linear != nil && reqs[it.q].units != nil }
		slices.SortStableFunc(items, func(a, b item) int {
			la, lb := lin(a), lin(b)
			switch {
			case la && !lb:
				return -1
			case lb && !la:
				return 1
			case la:
				return strings.Compare(unitsKey(reqs[a.q].units), unitsKey(reqs[b.q].units))
			}
			return 0
		})
		var bs *base
		var dc deltaCache
		for i0 := 0; i0 < len(items); {
			if err := ctx.Err(); err != nil {
				tensor.Recycle(h)
				return err
			}
			n, i1 := 0, i0
			for i1 < len(items) && (i1 == i0 || (n+len(items[i1].rows) <= chunk && lin(items[i1]) == lin(items[i0]))) {
				n += len(items[i1].rows)
				i1++
			}
			var feats *tensor.Tensor
			if lin(items[i0]) {
				if bs == nil {
					b := s.baseOf(h)
					bs = &b
				}
				feats = s.linearFeats(*bs, len(ims), reqs, items[i0:i1], n, &dc)
			} else {
				feats = s.plain(h, ims, reqs, items[i0:i1], n)
			}
			pred := r.Predict(feats.Reshape(feats.Dim(0), feats.Len()/max(1, feats.Dim(0))))
			tensor.Recycle(feats)
			k := 0
			for _, it := range items[i0:i1] {
				rq := reqs[it.q]
				for _, rw := range it.rows {
					rq.out[pos[it.q][ims[rw]]] = pred[k]
					k++
				}
			}
			if progress != nil {
				progress(n)
			}
			i0 = i1
		}
		dc.drop()
		if bs != nil {
			tensor.Recycle(bs.z0)
			if !bs.u0.SharesData(h) {
				tensor.Recycle(bs.u0)
			}
		}
		// h is this chunk's own (prefixOf copies out of the cache), so
		// its buffer serves the next chunk instead of becoming garbage.
		tensor.Recycle(h)
	}
	return nil
}

// deltaCache holds the last d_S computed, for the rows it was computed on.
type deltaCache struct {
	key string
	d   *tensor.Tensor
}

func (c *deltaCache) drop() {
	tensor.Recycle(c.d)
	c.key, c.d = "", nil
}

// linearFeats runs the items (linear requests, in one batch of n images)
// from the next linear layer: z = z0 + α·d_S for each item's rows of the
// base of a chunk of m images, then the rest of the suffix.
func (s *Suffix) linearFeats(bs base, m int, reqs []*request, items []item, n int, dc *deltaCache) *tensor.Tensor {
	zrow := bs.z0.Len() / m
	z := tensor.Scratch(shapeOf(n, bs.z0.Shape()[1:])...) // every row is written
	k := 0
	for _, it := range items {
		rq := reqs[it.q]
		key := unitsKey(rq.units) + "@" + rowsKey(it.rows)
		if key != dc.key {
			dc.drop()
			dc.d, dc.key = s.delta(bs, rq.units, it.rows), key
		}
		a := float32(rq.alpha)
		z0, dd, zd := bs.z0.Data(), dc.d.Data(), z.Data()
		for j, rw := range it.rows {
			dst := zd[(k+j)*zrow : (k+j+1)*zrow]
			src, del := z0[rw*zrow:(rw+1)*zrow], dd[j*zrow:(j+1)*zrow]
			for e := range dst {
				dst[e] = src[e] + a*del[e]
			}
		}
		k += len(it.rows)
	}
	feats := s.m.Net.ForwardRange(s.linear.next+1, s.end, z)
	if !feats.SharesData(z) {
		tensor.Recycle(z)
	}
	return feats
}

// RunSet returns the readout features of the batch h (Prefix outputs)
// with gain α on the channels units, for each α of alphas, stacked
// α-major: row k·N+i is image i at alphas[k]. [len(alphas)·N, F]. It
// reuses the next linear layer as the experiments do (linear.go); with
// Direct, or without such a layer, it is Run for each α.
func (s *Suffix) RunSet(h *tensor.Tensor, units []int, alphas []float64) *tensor.Tensor {
	n := h.Dim(0)
	var parts []*tensor.Tensor
	if s.linear == nil || len(units) == 0 {
		for _, a := range alphas {
			parts = append(parts, s.Run(h, Gain(s.unit.Channels, units, a)))
		}
		return tensor.Concat(parts...)
	}
	for _, u := range units {
		if u < 0 || u >= s.unit.Channels {
			panic(fmt.Sprintf("manipulate: unit %d out of range [0, %d)", u, s.unit.Channels))
		}
	}
	bs := s.baseOf(h)
	var reqs []*request
	var items []item
	for k, a := range alphas {
		reqs = append(reqs, &request{units: units, alpha: a})
		items = append(items, item{q: k, rows: all(n)})
	}
	var dc deltaCache
	f := s.linearFeats(bs, n, reqs, items, n*len(alphas), &dc)
	dc.drop()
	return f.Reshape(f.Dim(0), f.Len()/max(1, f.Dim(0)))
}

// item is a request's rows in a chunk's prefix.
type item struct {
	q    int
	rows []int // rows of h, ascending
}

func rowsKey(rows []int) string { return unitsKey(rows) }

// plain runs the suffix from the unit's ReLU on the items' rows of h,
// each under its request's gain, as one batch of n images.
func (s *Suffix) plain(h *tensor.Tensor, ims []int, reqs []*request, items []item, n int) *tensor.Tensor {
	row := h.Len() / len(ims)
	var y *tensor.Tensor
	if len(items) == 1 && len(items[0].rows) == len(ims) {
		y = s.gain(h, reqs[items[0].q].gain)
	} else {
		y = tensor.Scratch(shapeOf(n, h.Shape()[1:])...) // every row is written
		k := 0
		for _, it := range items {
			src := h
			if len(it.rows) != len(ims) {
				src = tensor.Scratch(shapeOf(len(it.rows), h.Shape()[1:])...)
				for j, rw := range it.rows {
					copy(src.Data()[j*row:(j+1)*row], h.Data()[rw*row:(rw+1)*row])
				}
			}
			yv := s.gain(src, reqs[it.q].gain)
			copy(y.Data()[k*row:], yv.Data())
			tensor.Recycle(yv)
			if src != h {
				tensor.Recycle(src)
			}
			k += len(it.rows)
		}
	}
	feats := s.rest(y)
	// y is this call's own: its buffer serves the next batch (the suffix
	// recycles its intermediates itself).
	if !feats.SharesData(y) {
		tensor.Recycle(y)
	}
	return feats
}

// prefixOf returns the pre-gain activations of images ims [len(ims),...],
// from cache where it has them; it adds the new ones while it has room.
// The result never shares memory with the cache: the caller may recycle
// it.
func (s *Suffix) prefixOf(ctx context.Context, imgs Images, ims []int, cache *prefixCache) (*tensor.Tensor, error) {
	var missing []int
	if cache != nil {
		for _, im := range ims {
			if cache.rows[im] == nil {
				missing = append(missing, im)
			}
		}
	} else {
		missing = ims
	}
	var h *tensor.Tensor
	if len(missing) > 0 {
		x, err := imgs.Load(ctx, missing)
		if err != nil {
			return nil, err
		}
		h = s.Prefix(x)
		if cache == nil {
			return h, nil
		}
	}
	if cache.shape == nil {
		cache.shape = h.Shape()[1:]
	}
	row := 1
	for _, d := range cache.shape {
		row *= d
	}
	for i, im := range missing {
		if int64(4*row) <= cache.room {
			cache.rows[im] = slices.Clone(h.Data()[i*row : (i+1)*row])
			cache.room -= int64(4 * row)
		}
	}
	out := tensor.Scratch(shapeOf(len(ims), cache.shape)...) // every row is written
	k := 0
	for i, im := range ims {
		if v := cache.rows[im]; v != nil {
			copy(out.Data()[i*row:], v)
		} else {
			for missing[k] != im {
				k++
			}
			copy(out.Data()[i*row:], h.Data()[k*row:(k+1)*row])
		}
	}
	tensor.Recycle(h)
	return out, nil
}

// Features runs m on images idx of imgs to the post-ReLU output of unit
// features ("" means DefaultFeatures) and returns it as [len(idx),F], in
// chunks that fit budget bytes (0 means DefaultBudget). progress, if not
// nil, is called with the number of images done after each chunk; ctx is
// checked between chunks.
func Features(ctx context.Context, m *nn.Model, features string, imgs Images, idx []int, budget int64, progress func(int)) (*tensor.Tensor, error) {
	if features == "" {
		features = DefaultFeatures
	}
	f, ok := m.Unit(features)
	if !ok {
		panic(fmt.Sprintf("manipulate: %s has no features unit %q", m.Arch, features))
	}
	if budget <= 0 {
		budget = DefaultBudget
	}
	// A chunk's forward to the features, [n,dim], and how many images
	// a chunk may hold.
	var forward func(x *tensor.Tensor) *tensor.Tensor
	var chunk, dim int
	if m.Graph != nil {
		cut := m.Graph.Cut(features, features)
		forward, dim = cut.Features, f.Channels
		chunk = int(max(1, min(budget/(4*int64(2*cut.Peak())), 4096)))
	} else {
		tr := TraceNet(m.Net, imgs.Shape())
		end := f.ReLU + 1
		forward = func(x *tensor.Tensor) *tensor.Tensor { return m.Net.ForwardRange(0, end, x) }
		dim = tr.size(f.ReLU)
		chunk = int(max(1, min(budget/(4*int64(2*tr.peak(-1, end))), 4096)))
	}
	out := tensor.New(len(idx), dim)
	for c0 := 0; c0 < len(idx); c0 += chunk {
		c1 := min(c0+chunk, len(idx))
		x, err := imgs.Load(ctx, idx[c0:c1])
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		copy(out.Data()[c0*dim:c1*dim], forward(x).Data())
		if progress != nil {
			progress(c1 - c0)
		}
	}
	return out, nil
}
