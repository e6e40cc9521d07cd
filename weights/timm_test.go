package weights

import (
	"errors"
	"testing"

	"github.com/emosel/emosel/tensor"
)

// timmVGG builds a reduced-width timm VGG state dict: 2 feature maps of
// 7×7 into 4 hidden units, 3 classes.
func timmVGG() StateDict {
	mk := func(shape ...int) *tensor.Tensor {
		t := tensor.New(shape...)
		for i := range t.Data() {
			t.Data()[i] = float32(i)
		}
		return t
	}
	return StateDict{
		"features.0.weight":     mk(2, 3, 3, 3),
		"features.0.bias":       mk(2),
		"pre_logits.fc1.weight": mk(4, 2, 7, 7),
		"pre_logits.fc1.bias":   mk(4),
		"pre_logits.fc2.weight": mk(4, 4, 1, 1),
		"pre_logits.fc2.bias":   mk(4),
		"head.fc.weight":        mk(3, 4),
		"head.fc.bias":          mk(3),
	}
}

func TestMapTimmVGG(t *testing.T) {
	in := timmVGG()
	out, err := MapTimmVGG(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"features.0.weight":   {2, 3, 3, 3},
		"features.0.bias":     {2},
		"classifier.0.weight": {4, 98},
		"classifier.0.bias":   {4},
		"classifier.3.weight": {4, 4},
		"classifier.3.bias":   {4},
		"classifier.6.weight": {3, 4},
		"classifier.6.bias":   {3},
	}
	if len(out) != len(want) {
		t.Fatalf("keys %v", out.Keys())
	}
	for k, shape := range want {
		if out[k] == nil || !out[k].HasShape(shape...) {
			t.Fatalf("%s = %v, want shape %v", k, out[k], shape)
		}
	}
	// Same memory, same order: fc1.weight[o,c,h,w] == classifier.0.weight[o, c*49+h*7+w].
	if &out["classifier.0.weight"].Data()[0] != &in["pre_logits.fc1.weight"].Data()[0] {
		t.Error("classifier.0.weight was copied")
	}
	if got, want := out["classifier.0.weight"].At(3, 1*49+2*7+5), in["pre_logits.fc1.weight"].At(3, 1, 2, 5); got != want {
		t.Errorf("classifier.0.weight[3,68] = %v, want %v", got, want)
	}
	if len(in) != 8 || in["pre_logits.fc1.weight"] == nil {
		t.Error("MapTimmVGG modified its input")
	}
}

func TestMapTimmVGGErrors(t *testing.T) {
	for name, edit := range map[string]func(StateDict){
		"missing head":        func(sd StateDict) { delete(sd, "head.fc.bias") },
		"fc1 rank 2":          func(sd StateDict) { sd["pre_logits.fc1.weight"] = tensor.New(4, 98) },
		"fc2 kernel 3x3":      func(sd StateDict) { sd["pre_logits.fc2.weight"] = tensor.New(4, 4, 3, 3) },
		"bias length":         func(sd StateDict) { sd["pre_logits.fc2.bias"] = tensor.New(5) },
		"chain mismatch":      func(sd StateDict) { sd["head.fc.weight"] = tensor.New(3, 5) },
		"already torchvision": func(sd StateDict) { sd["classifier.6.bias"] = tensor.New(3) },
	} {
		sd := timmVGG()
		edit(sd)
		if _, err := MapTimmVGG(sd); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, err := MapTimmVGG(StateDict{"classifier.0.weight": tensor.New(1, 1)}); err == nil {
		t.Error("torchvision dict accepted")
	}
}
