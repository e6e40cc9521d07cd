package imagenet

import (
	"math"
	"strings"
	"testing"
)

func TestLabels(t *testing.T) {
	l := Labels()
	if len(l) != NumClasses {
		t.Fatalf("%d labels", len(l))
	}
	for i, want := range map[int]string{0: "tench", 1: "goldfish", 2: "great white shark", 999: "toilet tissue"} {
		if l[i] != want || Label(i) != want {
			t.Errorf("label %d: %q / %q, want %q", i, l[i], Label(i), want)
		}
	}
	seen := map[string]bool{}
	for i, s := range l {
		if s == "" || s != strings.TrimSpace(s) || seen[s] {
			t.Errorf("label %d: %q empty, padded or repeated", i, s)
		}
		seen[s] = true
	}
	l[0] = "changed"
	if Label(0) != "tench" {
		t.Error("Labels returned the package's own slice")
	}
}

func TestTopK(t *testing.T) {
	logits := []float32{1, 3, float32(math.NaN()), 3, -2, 0}
	idx, _ := TopK(logits, 4)
	if want := []int{1, 3, 0, 5}; !equalInts(idx, want) {
		t.Errorf("indices %v, want %v", idx, want)
	}
	// The probabilities, with finite logits.
	logits[2] = -1
	idx, prob := TopK(logits, 10)
	if len(idx) != len(logits) {
		t.Fatalf("k capped to %d", len(idx))
	}
	sum := 0.0
	for _, v := range logits {
		sum += math.Exp(float64(v) - 3)
	}
	total := 0.0
	for j, i := range idx {
		want := math.Exp(float64(logits[i])-3) / sum
		if math.Abs(float64(prob[j])-want) > 1e-7 {
			t.Errorf("prob[%d] (class %d) = %v, want %v", j, i, prob[j], want)
		}
		total += float64(prob[j])
	}
	if math.Abs(total-1) > 1e-6 {
		t.Errorf("probabilities sum to %v", total)
	}
	if idx, prob := TopK(logits, 0); len(idx) != 0 || len(prob) != 0 {
		t.Errorf("k=0: %v %v", idx, prob)
	}
	if idx, _ := TopK(nil, 5); len(idx) != 0 {
		t.Errorf("no logits: %v", idx)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
