package figure_test

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/emosel/emosel/internal/figure"
)

// A line plot saved as SVG and PNG at the default size.
func ExampleSave() {
	dir, err := os.MkdirTemp("", "figure-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	p := plot.New()
	p.Title.Text = "SI by layer"
	line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 2.5}, {X: 2, Y: 2}})
	if err != nil {
		panic(err)
	}
	p.Add(line)
	if err := figure.Save(p, 0, 0, filepath.Join(dir, "si")); err != nil {
		panic(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	// Output:
	// si.png
	// si.svg
}
