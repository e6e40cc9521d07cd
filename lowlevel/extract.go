package lowlevel

import (
	"context"
	"fmt"
	"image"
	"runtime"
	"sync"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/stimuli"
)

// Extract returns the features (Bank.Features) of every image of set, in
// set order, each decoded to grey as PIL's convert("L") and resized by pre
// exactly as the network's input (imagenet.Config.Fit) before
// normalisation. Images labelled stimuli.Unknown are skipped (their row is
// nil) unless all is set. Work is spread over GOMAXPROCS goroutines, each
// with its own Bank; the result does not depend on their number. ctx is
// checked between images. Errors name the set and the image.
func Extract(ctx context.Context, set *stimuli.Set, pre imagenet.Config, cfg Config, all bool) ([][]float64, error) {
	size := pre.Size
	if size == 0 {
		size = imagenet.DefaultSize
	}
	out := make([][]float64, len(set.Images))
	jobs := make(chan int)
	errs := make([]error, len(set.Images))
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), len(set.Images)))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bank := cfg.NewBank(size)
			for k := range jobs {
				g, err := load(set, k, pre)
				if err != nil {
					errs[k] = err
					continue
				}
				out[k] = bank.Features(g)
			}
		}()
	}
	var err error
	for k, im := range set.Images {
		if !all && im.Category == stimuli.Unknown {
			continue
		}
		if err = ctx.Err(); err != nil {
			break
		}
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	return out, nil
}

// load decodes and resizes image k of set.
func load(set *stimuli.Set, k int, pre imagenet.Config) (*image.Gray, error) {
	im := set.Images[k]
	where := im.Path
	if where == "" {
		where = im.File
	}
	rc, err := set.Open(k)
	if err != nil {
		return nil, fmt.Errorf("lowlevel: set %s: image %s: %w", set.Name, where, err)
	}
	g, err := imagenet.ReadGray(rc)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("lowlevel: set %s: image %s: %w", set.Name, where, err)
	}
	return pre.Fit(g), nil
}
