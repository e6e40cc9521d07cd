package onnx

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emosel/emosel/tensor"
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

// BenchmarkFull runs full-size models on a random batch: the .onnx files
// named by EMOSEL_ONNX_BENCH (comma-separated; made by
// testdata/bench/ort/export_cnn.py), at batch EMOSEL_ONNX_BATCH (16 if
// unset). Besides img/s it reports peak-MB, the process's peak resident
// memory (VmHWM) so far, which with -benchtime 1x on one model is the
// memory to load it and run one forward, and weights-MB, the file's size.
//
//	EMOSEL_ONNX_BENCH=/tmp/resnet50.onnx go test -run x -bench Full -benchtime 3x -cpu 2 ./onnx/
func BenchmarkFull(b *testing.B) {
	paths := os.Getenv("EMOSEL_ONNX_BENCH")
	if paths == "" {
		b.Skip("EMOSEL_ONNX_BENCH names no .onnx files")
	}
	batch := 16
	if s := os.Getenv("EMOSEL_ONNX_BATCH"); s != "" {
		var err error
		if batch, err = strconv.Atoi(s); err != nil || batch < 1 {
			b.Fatalf("EMOSEL_ONNX_BATCH=%q is not a batch size", s)
		}
	}
	for _, path := range strings.Split(paths, ",") {
		name := strings.TrimSuffix(filepath.Base(path), ".onnx")
		b.Run(name+"/b="+strconv.Itoa(batch), func(b *testing.B) {
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			net := fullNets[path]
			if net == nil { // once: the runner calls this with b.N = 1 first
				if net, err = LoadNet(path); err != nil {
					b.Fatal(err)
				}
				fullNets[path] = net
			}
			shape := net.InputShape()
			shape[0] = batch
			x := tensor.New(shape...)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range x.Data() {
				x.Data()[i] = float32(r.NormFloat64())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				net.Forward(x)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
			b.ReportMetric(peakRSS(b), "peak-MB")
			b.ReportMetric(float64(st.Size())/1e6, "weights-MB")
		})
	}
}

// fullNets are BenchmarkFull's networks, loaded once per file so that
// peak-MB counts one copy.
var fullNets = map[string]*Net{}

// peakRSS returns VmHWM from /proc/self/status in MB (0 where there is
// none).
func peakRSS(b *testing.B) float64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(s), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				b.Fatalf("VmHWM line %q", line)
			}
			return float64(kb) * 1024 / 1e6
		}
	}
	return 0
}
