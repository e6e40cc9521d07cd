package onnx

import (
	"testing"
)

// BenchmarkForward runs each reduced fixture network on its input batch.
//
//	go test -run x -bench Forward ./onnx/
func BenchmarkForward(b *testing.B) {
	for _, name := range fixtureModels {
		b.Run(name, func(b *testing.B) {
			net, err := LoadNet(fixtureDir + "/" + name + ".onnx")
			if err != nil {
				b.Fatal(err)
			}
			x := readNpyB(b, fixtureDir+"/"+name+".x.npy")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				net.Forward(x)
			}
			b.ReportMetric(float64(x.Dim(0)*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
