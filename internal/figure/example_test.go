package figure_test

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/emosel/emosel/internal/figure"
)

// Two panels in the style, a line with point marks beside a panel with
// no data, saved as SVG and PNG.
func ExampleSaveTiles() {
	dir, err := os.MkdirTemp("", "figure-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	p := figure.New("SI by layer")
	p.Y.Label.Text = "SI"
	figure.Nominal(p, []string{"conv1", "conv2", "conv3"}, true)
	l, s, err := figure.Line(plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 2.5}, {X: 2, Y: 2}}, figure.Ink, false, true)
	if err != nil {
		panic(err)
	}
	p.Add(l, s)
	p.Legend.Add("pretrained", l, s)
	empty := figure.Empty("random", "no selective neuron")
	if err := figure.SaveTiles([][]*plot.Plot{{p, empty}}, 0, filepath.Join(dir, "si")); err != nil {
		panic(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	fmt.Println(figure.Ticks{}.Ticks(-100, 0)[1].Label, figure.Ticks{Integer: true}.Ticks(0, 2.5)[1].Label)
	// Output:
	// si.png
	// si.svg
	// -80 1
}
