package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emosel/emosel/alexnet"
	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/tensor"
)

var images = []string{
	"../../alexnet/testdata/img0.png",
	"../../alexnet/testdata/img1.png",
	"../../alexnet/testdata/img2.png",
}

// TestExtract runs the command with batches of 2 over 3 images and checks
// every array against one direct batch-of-3 recording through the library.
func TestExtract(t *testing.T) {
	out := filepath.Join(t.TempDir(), "feats")
	if err := run(context.Background(), io.Discard, false, "alexnet", "", out, "squash", 7, 2, images); err != nil {
		t.Fatal(err)
	}
	m := alexnet.Random(7)
	want := map[string]*tensor.Tensor{}
	m.Record(func(unit string, means *tensor.Tensor) { want[unit] = means })
	x, err := imagenet.LoadBatch(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	want["logits"] = m.Forward(x)
	for _, name := range []string{"conv1", "conv2", "conv3", "conv4", "conv5", "logits"} {
		got := golden.Load(t, filepath.Join(out, name+".npy"))
		golden.Check(t, name, got, want[name], 1e-6)
	}
	if _, err := os.Stat(filepath.Join(out, "fc6.npy")); err == nil {
		t.Error("fc6.npy written; only conv layers are wanted")
	}
	idx, err := os.ReadFile(filepath.Join(out, "images.csv"))
	if err != nil || !strings.Contains(string(idx), "2,"+images[2]) {
		t.Errorf("images.csv = %q, %v", idx, err)
	}
}

// TestBadInput checks that each kind of bad input gives an error naming
// the file and leaves nothing under -out.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("../../alexnet/testdata/small.pt")
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.pt")
	os.WriteFile(truncated, good[:len(good)/2], 0o644)
	corrupt := filepath.Join(dir, "corrupt.pt")
	bad := append([]byte(nil), good...)
	for i := 100; i < 400; i++ {
		bad[i] ^= 0x5a
	}
	os.WriteFile(corrupt, bad, 0o644)
	text := filepath.Join(dir, "notes.png")
	os.WriteFile(text, []byte("not an image\n"), 0o644)
	for _, c := range []struct {
		name, weights string
		images        []string
		mention       string
	}{
		{"truncated weights", truncated, images, truncated},
		{"corrupt weights", corrupt, images, corrupt},
		{"wrong model", "../../vgg/testdata/small.pt", images, "small.pt"},
		{"missing image", "", append([]string{images[0]}, filepath.Join(dir, "missing.png")), "missing.png"},
		{"non-image", "", []string{images[0], text}, text},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "-"))
			err := run(context.Background(), io.Discard, false, "alexnet", c.weights, out, "squash", 1, 1, c.images)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not name %s", err, c.mention)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("%s exists after the error", out)
			}
			if entries, _ := filepath.Glob(filepath.Join(dir, ".out-*")); len(entries) > 0 {
				t.Errorf("staging directories left behind: %v", entries)
			}
		})
	}
}

// cancelAfter is a context cancelled once its Err has been asked n times:
// the run sees it live at the first batch and cancelled at the next.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestInterrupted cancels runs at every point in turn (after 0, 1, 2...
// checks of the context): each either finishes or is an interruption
// (exit 130) that says how far it got, writes nothing, and logs (not to a
// terminal) no carriage return and no "done"; one of them must stop
// between the two batches.
func TestInterrupted(t *testing.T) {
	midway := false
	for n := 0; n < 10; n++ {
		out := filepath.Join(t.TempDir(), "feats")
		var log strings.Builder
		err := run(&cancelAfter{Context: context.Background(), n: n}, &log, false, "alexnet", "", out, "squash", 7, 2, images)
		s := log.String()
		if strings.Contains(s, "\r") {
			t.Errorf("n=%d: carriage return in a log: %q", n, s)
		}
		if err == nil {
			if !strings.Contains(s, "extract: done in") {
				t.Errorf("n=%d: finished, log %q", n, s)
			}
			continue
		}
		m := regexp.MustCompile(`after (\d) of 3 images`).FindStringSubmatch(err.Error())
		if cli.ExitCode(err) != 130 || m == nil {
			t.Fatalf("n=%d: err = %v (exit %d), want an interruption that says how far it got", n, err, cli.ExitCode(err))
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("n=%d: an interrupted run created %s", n, out)
		}
		if strings.Contains(s, "done") || !strings.Contains(s, "extract: interrupted after") || !strings.Contains(s, "at "+m[1]+" of 3 images") {
			t.Errorf("n=%d: log %q", n, s)
		}
		midway = midway || m[1] == "2"
	}
	if !midway {
		t.Error("no run stopped between the batches")
	}
}
