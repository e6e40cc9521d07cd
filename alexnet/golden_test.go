package alexnet

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emosel/emosel/internal/golden/netcheck"
	"github.com/emosel/emosel/nn"
)

// small is the reduced-width AlexNet of testdata/gen/models.py.
var small = Config{Width: 1.0 / 8, Hidden: 32, Classes: 10}

// TestGolden loads the reduced-width AlexNet that torchvision saved in
// each format, preprocesses the PNG fixtures, and compares every unit's
// spatial means and the logits with PyTorch's.
func TestGolden(t *testing.T) {
	netcheck.CheckFormats(t, "testdata", 64, func(path string) (*nn.Model, error) { return Load(small, path) })
}

// TestGoldenFull compares full-size random-init AlexNet with PyTorch when
// EMOSEL_FULL_FIXTURES is set.
func TestGoldenFull(t *testing.T) {
	netcheck.CheckFull(t, "alexnet", func(path string) (*nn.Model, error) { return Load(Config{}, path) })
}

// TestLoadDataParallel loads the small model saved through nn.DataParallel
// (every key prefixed "module.", here rewritten from the safetensors
// fixture's header) and checks it gives the fixture's parameters, with one
// notice.
func TestLoadDataParallel(t *testing.T) {
	b, err := os.ReadFile("testdata/small.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	prefixed := map[string]json.RawMessage{}
	for k, v := range header {
		if k != "__metadata__" {
			k = "module." + k
		}
		prefixed[k] = v
	}
	h, err := json.Marshal(prefixed)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), b[8+n:]...)
	path := filepath.Join(t.TempDir(), "dp.safetensors")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := Load(small, "testdata/small.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(small, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notices) != 1 || !strings.Contains(got.Notices[0], `"module."`) || len(want.Notices) != 0 {
		t.Errorf("notices %q (plain file: %q), want one naming the prefix", got.Notices, want.Notices)
	}
	wsd, gsd := want.Net.StateDict(), got.Net.StateDict()
	if len(wsd) != len(gsd) {
		t.Fatalf("%d parameters, want %d", len(gsd), len(wsd))
	}
	for k, w := range wsd {
		if g := gsd[k]; g == nil || !slices.Equal(g.Data(), w.Data()) {
			t.Fatalf("%s differs from the plain file's", k)
		}
	}
}
