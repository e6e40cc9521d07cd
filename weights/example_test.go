package weights_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/emosel/emosel/weights"
)

// Example builds a two-tensor safetensors file in memory and reads it.
func Example() {
	header := `{"__metadata__":{"format":"pt"},` +
		`"fc.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},` +
		`"fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}`
	var file bytes.Buffer
	binary.Write(&file, binary.LittleEndian, uint64(len(header)))
	file.WriteString(header)
	for _, v := range []float32{1, 2, 3, 4, 5, 6, 0.5, -0.5} {
		binary.Write(&file, binary.LittleEndian, math.Float32bits(v))
	}

	sd, err := weights.Read(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range sd.Keys() {
		fmt.Println(k, sd[k].Shape(), sd[k].Data())
	}
	// Output:
	// fc.bias [2] [0.5 -0.5]
	// fc.weight [2 3] [1 2 3 4 5 6]
}

// ExampleLoadFile loads torchvision's VGG-16 weights. It needs the file,
// so it has no Output and is only compiled.
func ExampleLoadFile() {
	sd, err := weights.LoadFile("vgg16-397923af.pth")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sd["features.0.weight"].Shape()) // [64 3 3 3]
}

// ExampleMapTimmVGG loads timm's vgg16.tv_in1k and renames its keys to
// torchvision's. It needs the file, so it is only compiled.
func ExampleMapTimmVGG() {
	sd, err := weights.LoadFile("model.safetensors")
	if err == nil {
		sd, err = weights.MapTimmVGG(sd)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sd["classifier.0.weight"].Shape()) // [4096 25088]
}
