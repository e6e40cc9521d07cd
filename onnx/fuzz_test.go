package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/emosel/emosel/tensor"
)

// FuzzDecode checks that no input panics in Decode or NewNet, that every
// error wraps one of the sentinels, and that a net which compiles runs
// (on zeros, when its activations are small) without panicking. A
// crasher belongs in testdata/fuzz/FuzzDecode/ as a regression input.
//
//	go test -run x -fuzz FuzzDecode -fuzztime 60s -fuzzminimizetime 50x ./onnx/
func FuzzDecode(f *testing.F) {
	f.Add(modelPB(13, reluModel()))
	for _, g := range opGraphs() {
		f.Add(modelPB(13, g.spec))
	}
	// The smallest real export, and the first part of a larger one (the
	// fuzzer mutates short inputs far faster).
	if b, err := os.ReadFile(filepath.Join(fixtureDir, "squeezenet1_1.onnx")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		checkErr(t, err)
		if err != nil {
			return
		}
		net, err := NewNet(m)
		checkErr(t, err)
		if err != nil || net.peak > 1<<16 {
			return
		}
		net.Forward(tensor.New(net.InputShape()...))
	})
}
