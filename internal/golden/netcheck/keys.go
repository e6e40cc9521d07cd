package netcheck

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emosel/emosel/nn"
)

// CheckKeys compares m's state-dict keys and shapes with the lines of
// path ("<arch> <key> <dims...>", written by testdata/gen/models.py from
// torchvision's own models) whose arch is m.Arch.
func CheckKeys(t testing.TB, m *nn.Model, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != m.Arch {
			continue
		}
		var dims []int
		for _, s := range fields[2:] {
			d, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, sc.Text(), err)
			}
			dims = append(dims, d)
		}
		want[fields[1]] = dims
	}
	if len(want) == 0 {
		t.Fatalf("%s has no keys for %s", path, m.Arch)
	}
	got := m.StateDict()
	for k, dims := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: missing torchvision key %s %v", m.Arch, k, dims)
			continue
		}
		if !slices.Equal(g.Shape(), dims) {
			t.Errorf("%s: %s is %v, torchvision has %v", m.Arch, k, g.Shape(), dims)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: key %s is not torchvision's", m.Arch, k)
		}
	}
}
