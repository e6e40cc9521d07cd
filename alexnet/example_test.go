package alexnet_test

import (
	"fmt"
	"strings"

	"github.com/emosel/emosel/alexnet"
	"github.com/emosel/emosel/tensor"
)

// An AlexNet with the real topology at 1/16 of the width, from a seed:
// the paper's layer names and a forward pass on one 64×64 image.
func Example() {
	m := alexnet.New(alexnet.Config{Width: 1.0 / 16, Hidden: 16, Classes: 2}, tensor.NewRNG(1))
	var names []string
	for _, u := range m.Units {
		names = append(names, fmt.Sprintf("%s:%d", u.Name, u.Channels))
	}
	fmt.Println(strings.Join(names, " "))
	x := tensor.New(1, 3, 64, 64) // [N,3,H,W]; AlexNet needs at least 63 pixels
	tensor.NewRNG(2).Normal(x, 0, 1)
	fmt.Println(m.Forward(x).Shape())
	// Output:
	// conv1:4 conv2:12 conv3:24 conv4:16 conv5:16 fc6:16 fc7:16
	// [1 2]
}
