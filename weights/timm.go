package weights

import "fmt"

// MapTimmVGG renames a timm VGG state dict (for example the
// model.safetensors of timm's vgg16.tv_in1k) to torchvision's keys, so that
// it loads like vgg16-397923af.pth:
//
//	pre_logits.fc1.weight [O,C,7,7] -> classifier.0.weight [O,C*7*7]
//	pre_logits.fc1.bias   [O]       -> classifier.0.bias
//	pre_logits.fc2.weight [O,I,1,1] -> classifier.3.weight [O,I]
//	pre_logits.fc2.bias   [O]       -> classifier.3.bias
//	head.fc.weight        [K,I]     -> classifier.6.weight
//	head.fc.bias          [K]       -> classifier.6.bias
//
// The features.* keys are the same in both libraries; they and any other
// keys pass through unchanged. The result shares memory with sd: a
// reshape keeps the element order, so nothing is copied.
//
// Evidence (timm/models/vgg.py, huggingface/pytorch-image-models): VGG
// builds its classifier as ConvMlp, fc1 = conv_layer(512, 4096, 7) and
// fc2 = conv_layer(4096, 4096, 1), then a ClassifierHead whose Linear is
// head.fc; and the _filter_fn that converts torchvision checkpoints (the
// "tv" in vgg16.tv_in1k) renames classifier.0 -> pre_logits.fc1 with
// v.reshape(-1, 512, 7, 7), classifier.3 -> pre_logits.fc2 with
// v.reshape(-1, 4096, 1, 1) and classifier.6 -> head.fc. A reshape of a
// contiguous tensor keeps memory order, so flattening the conv weights
// back inverts it exactly; torchvision flattens the [512,7,7] pooled
// features in the same C,H,W order the conv weight uses.
func MapTimmVGG(sd StateDict) (StateDict, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("weights: %w", errf(ErrFormat, "not a timm VGG state dict: "+format, args...))
	}
	get := func(key string, rank int) ([]int, error) {
		t, ok := sd[key]
		if !ok || t == nil {
			return nil, bad("no key %s", key)
		}
		if t.Rank() != rank {
			return nil, bad("%s is %v, want %d dimensions", key, t.Shape(), rank)
		}
		return t.Shape(), nil
	}
	type layer struct{ from, to string }
	layers := []layer{{"pre_logits.fc1", "classifier.0"}, {"pre_logits.fc2", "classifier.3"}, {"head.fc", "classifier.6"}}
	wantRank := []int{4, 4, 2}
	var prevOut int
	for i, l := range layers {
		w, err := get(l.from+".weight", wantRank[i])
		if err != nil {
			return nil, err
		}
		b, err := get(l.from+".bias", 1)
		if err != nil {
			return nil, err
		}
		if b[0] != w[0] {
			return nil, bad("%s.bias is %v for weight %v", l.from, b, w)
		}
		if i == 1 && (w[2] != 1 || w[3] != 1) {
			return nil, bad("%s.weight is %v, want a 1×1 kernel", l.from, w)
		}
		if i > 0 && w[1] != prevOut {
			return nil, bad("%s.weight is %v after %d outputs", l.from, w, prevOut)
		}
		prevOut = w[0]
		for _, k := range []string{".weight", ".bias"} {
			if _, ok := sd[l.to+k]; ok {
				return nil, bad("it already has %s%s", l.to, k)
			}
		}
	}
	out := make(StateDict, len(sd))
	for k, t := range sd {
		out[k] = t
	}
	for _, l := range layers {
		w := out[l.from+".weight"]
		delete(out, l.from+".weight")
		if w.Rank() == 4 { // [O,C,kh,kw] -> [O,C*kh*kw]
			w = w.Reshape(w.Dim(0), w.Dim(1)*w.Dim(2)*w.Dim(3))
		}
		out[l.to+".weight"] = w
		out[l.to+".bias"] = out[l.from+".bias"]
		delete(out, l.from+".bias")
	}
	return out, nil
}
