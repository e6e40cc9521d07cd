// Package cli holds what the example commands share: building a model by
// name, parsing the resize mode, and reporting a fatal error on one line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/emosel/emosel/alexnet"
	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/onnx"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// Models lists the architectures the commands accept. "onnx" is any CNN
// exported to ONNX, whose -weights is the .onnx file (graph and weights).
var Models = []string{"vgg16", "alexnet", "vgg11", "vgg13", "vgg19", "onnx"}

// WeightFiles are torchvision's weight files of Models, as downloaded
// from https://download.pytorch.org/models/.
var WeightFiles = map[string]string{
	"vgg16": "vgg16-397923af.pth", "alexnet": "alexnet-owt-7be5be79.pth",
	"vgg11": "vgg11-8a719046.pth", "vgg13": "vgg13-19584684.pth", "vgg19": "vgg19-dcbb9e9d.pth",
}

// HeadroomBytes is the memory allowed beyond the parameters and a
// command's own budget (see LimitMemory). At 352 MiB, VGG-16's extract
// peaked at 882–948 MiB over repeated runs of 60 images, past the 928 MiB
// budget in two of seven; at 320 MiB, 848–886 MiB in twelve, no slower.
const HeadroomBytes = 320 << 20

// LimitMemory sets the Go runtime's soft memory limit to the parameters of
// models, plus extra bytes (a command's own budget, such as cached
// activations), plus HeadroomBytes for one batch of activations, so that
// the garbage collector keeps a command's peak near one copy of the
// weights whatever the number of images. When convolutions keep their
// Winograd weights (conv.KeepWinogradWeights), the limit includes them:
// 36 values per 3×3 kernel and 64 per 5×5 one.
//
// The budget gets half again as much room: the manipulation fills its
// budget with activations of several batch sizes, and with the limit at
// parameters + budget + headroom the live heap sat at the limit. The GC then
// ran every second or so, emptied the scratch pools each time, and the
// runtime returned their pages to the OS only to fault them in again: the
// scaled study's lesion stage (VGG-16, 2 × 120 images, -mem 1024) took 3:13
// with 190 GCs; with this room, 2:30 with 56 GCs and a lower peak RSS
// (2.82 GB against 2.87).
func LimitMemory(extra int64, models ...*nn.Model) {
	var bytes int64
	for _, m := range models {
		if m == nil {
			continue
		}
		for _, t := range m.StateDict() {
			bytes += 4 * int64(t.Len())
			if s := t.Shape(); conv.KeepsWinogradWeights() && len(s) == 4 && s[2] == s[3] && (s[2] == 3 || s[2] == 5) {
				n := int64(s[2] + 3)                  // tile side: 6 for 3×3, 8 for 5×5
				bytes += 4 * n * n * int64(s[0]*s[1]) // U: n² values per kernel
			}
		}
	}
	debug.SetMemoryLimit(bytes + extra + extra/2 + HeadroomBytes)
}

// CheckEnv returns the error in emosel's environment variables
// (EMOSEL_SIMD, EMOSEL_CONV), as a usage error, or nil. Every command
// calls it before any work, so that a typo stops the run instead of
// silently running the default.
func CheckEnv() error {
	if err := conv.EnvError(); err != nil {
		return Usagef("%v", err)
	}
	return nil
}

// ErrUsage marks a bad flag or argument.
var ErrUsage = errors.New("usage")

// Model builds the named architecture. With weights == "" it is
// torchvision's random initialisation from seed (the paper's untrained
// control); otherwise the weight file is loaded.
func Model(arch, weights string, seed uint64) (*nn.Model, error) {
	m, err := model(arch, weights, seed)
	if m != nil {
		for _, n := range m.Notices {
			fmt.Fprintln(os.Stderr, "note:", n)
		}
	}
	return m, err
}

func model(arch, weights string, seed uint64) (*nn.Model, error) {
	var rng *tensor.RNG
	if weights == "" {
		rng = tensor.NewRNG(seed)
	}
	var m *nn.Model
	switch arch {
	case "onnx":
		if weights == "" {
			return nil, fmt.Errorf("%w: -model onnx needs -weights FILE.onnx (the exported graph and its weights)", ErrUsage)
		}
		return ONNX(weights, false, seed)
	case "alexnet":
		if weights != "" {
			return alexnet.Load(alexnet.Config{}, weights)
		}
		m = alexnet.New(alexnet.Config{}, rng)
	case "vgg11", "vgg13", "vgg16", "vgg19":
		var depth int
		fmt.Sscanf(arch, "vgg%d", &depth)
		cfg := vgg.Config{Depth: depth}
		if weights != "" {
			return vgg.Load(cfg, weights)
		}
		m = vgg.New(cfg, rng)
	default:
		return nil, fmt.Errorf("%w: -model %q, want one of %s", ErrUsage, arch, strings.Join(Models, ", "))
	}
	return m, nil
}

// ONNX loads the .onnx file at path as a model named "onnx" (see
// onnx.Net.AsModel); with random, its parameters are re-initialised from
// seed as the native random control's are (onnx.Model.Randomize), the
// untrained control of the same graph.
func ONNX(path string, random bool, seed uint64) (*nn.Model, error) {
	var n *onnx.Net
	var err error
	if random {
		n, err = onnx.LoadRandom(path, seed)
	} else {
		n, err = onnx.LoadNet(path)
	}
	if err != nil {
		return nil, err
	}
	return n.AsModel("onnx"), nil
}

// Control returns the random control of -model arch: torchvision's
// random initialisation from seed, or for "onnx" the graph of weights
// re-initialised from seed.
func Control(arch, weights string, seed uint64) (*nn.Model, error) {
	if arch == "onnx" {
		if weights == "" {
			return nil, fmt.Errorf("%w: -model onnx needs -weights FILE.onnx (the exported graph and its weights)", ErrUsage)
		}
		return ONNX(weights, true, seed)
	}
	return Model(arch, "", seed)
}

// ONNXShape returns the image shape [C,H,W] the graph of the .onnx file
// at path declares, and its last unit's name (the default readout
// features), checking that it is an RGB square image.
func ONNXShape(path string) (size int, features string, err error) {
	n, err := onnx.LoadNet(path)
	if err != nil {
		return 0, "", err
	}
	s := n.InputShape()
	if len(s) != 4 || s[1] != 3 || s[2] != s[3] {
		return 0, "", fmt.Errorf("%s: input %v, want [N 3 S S] (RGB square images)", path, s)
	}
	if len(n.Units) == 0 {
		return 0, "", fmt.Errorf("%s: the graph has no ReLU", path)
	}
	names := onnx.UnitNames(n.Units)
	return s[2], names[len(names)-1], nil
}

// ONNXFlags resolves -size and -features for -model onnx with -weights
// weights: the graph fixes the size (a -size other than the graph's is a
// usage error unless it is def, the flag's default, which gives way), and
// the readout's input defaults to the graph's last unit (when features is
// manipulate.DefaultFeatures).
func ONNXFlags(weights string, size, def int, features string) (int, string, error) {
	if weights == "" {
		return 0, "", fmt.Errorf("%w: -model onnx needs -weights FILE.onnx (the exported graph and its weights)", ErrUsage)
	}
	s, last, err := ONNXShape(weights)
	if err != nil {
		return 0, "", err
	}
	if size != s && size != def {
		return 0, "", fmt.Errorf("%w: -size %d: the graph in %s takes %d-pixel images", ErrUsage, size, weights, s)
	}
	if features == manipulate.DefaultFeatures {
		features = last
	}
	return s, features, nil
}

// Resize parses -resize: "squash" (224×224 directly, the paper authors'
// choice) or "crop" (shorter side 256, centre crop 224, torchvision's
// standard).
func Resize(s string) (imagenet.Config, error) {
	switch s {
	case "squash", "":
		return imagenet.Config{Mode: imagenet.Squash}, nil
	case "crop":
		return imagenet.Config{Mode: imagenet.CenterCrop}, nil
	}
	return imagenet.Config{}, fmt.Errorf("%w: -resize %q, want squash or crop", ErrUsage, s)
}

// Fatal prints err on one line prefixed by the command's name and exits
// with ExitCode(err).
func Fatal(err error) {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(os.Stderr, "%s: %s\n", filepath.Base(os.Args[0]), msg)
	os.Exit(ExitCode(err))
}

// ExitCode is a command's exit status for err: 0 for nil, 2 for usage
// errors, 130 (the shell's 128 + SIGINT) for an interrupted run and 1
// otherwise.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	case errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}

// Interruptedf is the error of a run stopped by a signal: the message
// says what was kept and how to resume, and errors.Is(err,
// context.Canceled) holds, so that the command exits 130.
func Interruptedf(format string, args ...any) error {
	return interrupted{fmt.Sprintf(format, args...)}
}

type interrupted struct{ msg string }

func (e interrupted) Error() string { return e.msg }
func (e interrupted) Unwrap() error { return context.Canceled }

// StageDir makes a fresh temporary directory beside out, so that a
// command can write all its files there and Publish them into out only
// once everything has succeeded.
func StageDir(out string) (string, error) {
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(out))+".tmp-*")
}

// Publish moves every file of the staging directory into out (created if
// needed), replacing files of the same name, and removes the staging
// directory.
func Publish(stage, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(stage)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(out, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(stage)
}

// ParseList parses "LO:HI:STEP" (inclusive) or a comma-separated list of
// numbers, each divided by scale. A Unicode minus (U+2212, as the docs
// and reports print it) is read as "-".
func ParseList(name, s string, scale float64) ([]float64, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\u2212", "-"))
	if s == "" {
		return nil, Usagef("%s is empty", name)
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) != 3 {
			return nil, Usagef("%s %q: want LO:HI:STEP or a comma-separated list", name, s)
		}
		var v [3]float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return nil, Usagef("%s %q: %q is not a number", name, s, p)
			}
			v[i] = f
		}
		if !(v[2] > 0) || !(v[0] <= v[1]) || (v[1]-v[0])/v[2] > 1e5 {
			return nil, Usagef("%s %q: want LO ≤ HI and a positive STEP (at most 100000 values)", name, s)
		}
		g := manipulate.Grid(v[0], v[1], v[2])
		for i := range g {
			g[i] /= scale
		}
		return g, nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f != f {
			return nil, Usagef("%s: %q is not a number", name, p)
		}
		out = append(out, f/scale)
	}
	return out, nil
}

// Usagef returns a usage error (wrapping ErrUsage) with the formatted message.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}
