package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/emosel/emosel/alexnet"
	"github.com/emosel/emosel/imagenet"
)

// TestClassify checks the printed classes and probabilities against a
// direct forward pass and imagenet.TopK.
func TestClassify(t *testing.T) {
	img := "../../alexnet/testdata/img3.png"
	var out, stderr bytes.Buffer
	if err := run(context.Background(), &out, &stderr, "alexnet", "", "crop", 5, 3, []string{img}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "random initialisation from seed 5") || !strings.Contains(stderr.String(), "alexnet-owt-7be5be79.pth") {
		t.Errorf("no warning that the classes of a random network mean nothing: %q", stderr.String())
	}
	x, err := imagenet.Config{Mode: imagenet.CenterCrop}.Load(img)
	if err != nil {
		t.Fatal(err)
	}
	idx, prob := imagenet.TopK(alexnet.Random(5).Forward(x).Data(), 3)
	want := img + "\n"
	for i, c := range idx {
		want += fmt.Sprintf("  %6.2f%%  %4d  %s\n", 100*prob[i], c, imagenet.Label(c))
	}
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
	if err := run(context.Background(), &out, &stderr, "resnet", "", "crop", 5, 3, []string{img}); err == nil || !strings.Contains(err.Error(), "resnet") {
		t.Errorf("unknown model: %v", err)
	}
}
