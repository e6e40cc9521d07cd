package cli_test

import (
	"errors"
	"fmt"

	"github.com/emosel/emosel/internal/cli"
)

// -resize and -model as the commands parse them: a bad value is a usage
// error (exit status 2 through cli.Fatal).
func Example() {
	pre, err := cli.Resize("crop")
	fmt.Println(pre.Mode, err)
	_, err = cli.Resize("zoom")
	fmt.Println(err, errors.Is(err, cli.ErrUsage))
	_, err = cli.Model("resnet50", "", 1)
	fmt.Println(err)
	// Output:
	// CenterCrop <nil>
	// usage: -resize "zoom", want squash or crop true
	// usage: -model "resnet50", want one of vgg16, alexnet, vgg11, vgg13, vgg19, onnx
}
