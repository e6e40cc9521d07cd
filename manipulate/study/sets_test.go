package study

import (
	"context"
	"slices"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/stimuli"
)

// TestSetImagesKeepsPictures checks that the set's images, decoded once
// and kept as resized pictures, load with the bits of decoding each file
// again through the whole pipeline (imagenet.Config.Read), on the first
// load, on a repeated one and in another order, with both resize modes.
func TestSetImagesKeepsPictures(t *testing.T) {
	set := stimuli.Synthetic("s", 12, 3, 40)
	for _, pre := range []imagenet.Config{{Size: 32}, {Size: 24, Mode: imagenet.CenterCrop}} {
		imgs := SetImages(set, pre)
		for _, idx := range [][]int{{0, 5, 7}, {7, 0, 5, 11}, {11, 11, 2}} {
			got, err := imgs.Load(context.Background(), idx)
			if err != nil {
				t.Fatal(err)
			}
			per := got.Len() / len(idx)
			for i, k := range idx {
				r, err := set.Open(k)
				if err != nil {
					t.Fatal(err)
				}
				want, err := pre.Read(r)
				r.Close()
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Data()[i*per:(i+1)*per], want.Data()) {
					t.Fatalf("%+v: image %d of load %v differs from decoding it again", pre, k, idx)
				}
			}
		}
	}
}
