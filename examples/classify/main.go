// Command classify prints the top-5 ImageNet classes of each image, with
// their names and softmax probabilities, as torchvision's model would.
//
//	go run ./examples/classify -model vgg16 -weights vgg16-397923af.pth IMAGE...
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/cli"
)

func main() {
	if err := cli.CheckEnv(); err != nil {
		cli.Fatal(err)
	}
	fs := flag.NewFlagSet("classify", flag.ExitOnError)
	model := fs.String("model", "vgg16", "architecture: vgg16, alexnet, vgg11, vgg13 or vgg19")
	weights := fs.String("weights", "", "torchvision .pth or safetensors weight file (default: random init from -seed, which classifies nothing)")
	resize := fs.String("resize", "squash", "squash: resize to 224x224 (the paper's, what the study's network sees); crop: shorter side 256,\ncentre crop 224 (torchvision's evaluation transform, for checking weights against its accuracy)")
	seed := fs.Uint64("seed", 1, "seed of the random initialisation when -weights is empty")
	k := fs.Int("k", 5, "number of classes to print per image")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: classify [flags] IMAGE...\n\n"+
			"Prints the top classes of each image (converted to grayscale, as in the paper).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr, *model, *weights, *resize, *seed, *k, fs.Args()); err != nil {
		cli.Fatal(err)
	}
}

func run(ctx context.Context, stdout, stderr io.Writer, arch, weights, resize string, seed uint64, k int, images []string) error {
	if len(images) == 0 {
		return fmt.Errorf("%w: no images given", cli.ErrUsage)
	}
	if k < 1 || k > imagenet.NumClasses {
		return fmt.Errorf("%w: -k %d, want 1..%d", cli.ErrUsage, k, imagenet.NumClasses)
	}
	pre, err := cli.Resize(resize)
	if err != nil {
		return err
	}
	m, err := cli.Model(arch, weights, seed)
	if err != nil {
		return err
	}
	cli.LimitMemory(0, m)
	if weights == "" {
		fmt.Fprintf(stderr, "warning: no -weights: %s is a random initialisation from seed %d, so the classes below mean nothing;\n"+
			"give torchvision's weight file (-weights %s) to classify\n", arch, seed, cli.WeightFiles[arch])
	}
	for _, path := range images {
		if err := ctx.Err(); err != nil {
			return err
		}
		x, err := pre.Load(path)
		if err != nil {
			return err
		}
		logits := m.Forward(x)
		if logits.Dim(1) != imagenet.NumClasses {
			return fmt.Errorf("%s has %d outputs, not the %d ImageNet classes", arch, logits.Dim(1), imagenet.NumClasses)
		}
		idx, prob := imagenet.TopK(logits.Data(), k)
		fmt.Fprintln(stdout, path)
		for i, c := range idx {
			fmt.Fprintf(stdout, "  %6.2f%%  %4d  %s\n", 100*prob[i], c, imagenet.Label(c))
		}
	}
	return nil
}
