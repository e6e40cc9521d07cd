// Command extract records every conv layer of VGG or AlexNet on a list of
// images: the per-channel spatial mean of each post-ReLU map (Eq 2 of Liu
// et al. 2024), and the logits.
//
//	go run ./examples/extract -model vgg16 -weights vgg16-397923af.pth -out feats img1.jpg img2.png ...
//
// It writes, in -out:
//
//	<layer>.npy   float32 [n_images, channels] for each conv layer (conv1_1 … conv5_3, or conv1 … conv5)
//	logits.npy    float32 [n_images, 1000]
//	images.csv    row,path: the images in argument order (the rows of every array)
//
// All layers are recorded in one forward pass per batch, in the fused GEMM
// epilogue, and rows are streamed to disk, so memory does not grow with the
// number of images. Files are staged beside -out and moved in only when
// every image has been processed: on any error nothing is written under
// -out. Without -weights the network is torchvision's random
// initialisation from -seed.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/tensor"
)

func main() {
	if err := cli.CheckEnv(); err != nil {
		cli.Fatal(err)
	}
	fs := flag.NewFlagSet("extract", flag.ExitOnError)
	model := fs.String("model", "vgg16", "architecture: vgg16, alexnet, vgg11, vgg13 or vgg19")
	weights := fs.String("weights", "", "torchvision .pth or safetensors weight file (default: random init from -seed)")
	out := fs.String("out", "", "output directory (required)")
	resize := fs.String("resize", "squash", "squash: resize to 224x224; crop: shorter side 256, centre crop 224")
	seed := fs.Uint64("seed", 1, "seed of the random initialisation when -weights is empty")
	quiet := fs.Bool("quiet", false, "print only errors (a progress bar is drawn only when stderr is a terminal; otherwise a line at\nthe start and the end)")
	batch := fs.Int("batch", 8, "images per forward pass (8 keeps VGG-16 within weights + 400 MB)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: extract [flags] -out DIR IMAGE...\n\n"+
			"Records the per-channel spatial means of every conv layer's post-ReLU output\n"+
			"(and the logits) for each image, as float32 .npy arrays [n_images, channels].\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stderr, *quiet, *model, *weights, *out, *resize, *seed, *batch, fs.Args()); err != nil {
		cli.Fatal(err)
	}
}

func run(ctx context.Context, stderr io.Writer, quiet bool, arch, weights, out, resize string, seed uint64, batch int, images []string) (err error) {
	if out == "" {
		return fmt.Errorf("%w: -out is required", cli.ErrUsage)
	}
	if len(images) == 0 {
		return fmt.Errorf("%w: no images given", cli.ErrUsage)
	}
	if batch < 1 {
		return fmt.Errorf("%w: -batch %d, want at least 1", cli.ErrUsage, batch)
	}
	pre, err := cli.Resize(resize)
	if err != nil {
		return err
	}
	for _, p := range images {
		if st, err := os.Stat(p); err != nil {
			return err
		} else if st.IsDir() {
			return fmt.Errorf("%s is a directory, not an image", p)
		}
	}
	m, err := cli.Model(arch, weights, seed)
	if err != nil {
		return err
	}
	// Recomputing the Winograd weights per batch costs about 8% at the
	// default batch of 8 and keeps the peak within the weights plus 400 MB
	// (kept, VGG-16's would add 235 MB).
	conv.KeepWinogradWeights(false)
	cli.LimitMemory(0, m)
	stage, err := cli.StageDir(out)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(stage)
		}
	}()
	n := len(images)
	files := map[string]*npy.Rows{}
	defer func() {
		for _, r := range files {
			r.Abort()
		}
	}()
	var order []string
	for _, u := range m.ConvUnits() {
		r, err := npy.CreateRows(filepath.Join(stage, u.Name+".npy"), n, u.Channels)
		if err != nil {
			return err
		}
		files[u.Name] = r
		order = append(order, u.Name)
	}
	var logitRows *npy.Rows
	var recErr error
	m.Record(func(unit string, means *tensor.Tensor) {
		if r, ok := files[unit]; ok && recErr == nil {
			recErr = r.Append(means)
		}
	})
	interrupted := func(done int) error {
		return cli.Interruptedf("interrupted after %d of %d images; nothing was written to %s (the arrays appear only when\n"+
			"every image is done): run the same command again", done, n, out)
	}
	prog := cli.NewProgress(stderr, quiet, cli.ProgressOptions{Context: ctx, Unit: func(string) string { return "images" }})
	prog.Start("extract", int64(n))
	defer prog.Finish()
	for i := 0; i < n; i += batch {
		if ctx.Err() != nil {
			return interrupted(i)
		}
		j := min(i+batch, n)
		x, err := pre.LoadBatch(ctx, images[i:j])
		if errors.Is(err, context.Canceled) {
			return interrupted(i)
		}
		if err != nil {
			return err
		}
		logits := m.Forward(x)
		if recErr != nil {
			return recErr
		}
		if logitRows == nil {
			if logitRows, err = npy.CreateRows(filepath.Join(stage, "logits.npy"), n, logits.Dim(1)); err != nil {
				return err
			}
			files["logits"] = logitRows
			order = append(order, "logits")
		}
		if err := logitRows.Append(logits); err != nil {
			return err
		}
		prog.Add(int64(j - i))
	}
	prog.Finish()
	for _, name := range order {
		r := files[name]
		delete(files, name)
		if err := r.Commit(); err != nil {
			return err
		}
	}
	if err := writeIndex(filepath.Join(stage, "images.csv"), images); err != nil {
		return err
	}
	if err := cli.Publish(stage, out); err != nil {
		return errors.Join(fmt.Errorf("moving results into %s", out), err)
	}
	if !quiet {
		fmt.Fprintf(stderr, "wrote %d arrays and images.csv to %s\n", len(order), out)
	}
	return nil
}

func writeIndex(path string, images []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"row", "path"})
	for i, p := range images {
		w.Write([]string{strconv.Itoa(i), p})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
