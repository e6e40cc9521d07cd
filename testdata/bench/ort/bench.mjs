// onnxruntime-node timing for testdata/bench/ort/run.sh and run_cnn.sh:
//   node bench.mjs DIR full=16 conv1_2=14 ...
//   node bench.mjs DIR resnet50=16 mobilenet_v2=16
// (a name without an entry in shapes takes [3,224,224]);
// graph optimisation "all", 2 intra-op threads, sequential execution;
// prints the median of 3 timed runs after one warm-up, in img/s.
import * as ort from "onnxruntime-node";

const [dir, ...cases] = process.argv.slice(2);
const shapes = {
  full: [3, 224, 224],
  conv1_2: [64, 224, 224],
  conv3_3: [256, 56, 56],
  conv5_1: [512, 14, 14],
};
for (const c of cases) {
  const [name, b] = c.split("=");
  const batch = Number(b);
  const s = await ort.InferenceSession.create(`${dir}/${name}.onnx`, {
    graphOptimizationLevel: "all",
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    executionMode: "sequential",
  });
  const shape = shapes[name] ?? [3, 224, 224];
  const dims = [batch, ...shape];
  const n = dims.reduce((a, v) => a * v, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.random() * 2 - 1;
  const x = new ort.Tensor("float32", data, dims);
  await s.run({ x: new ort.Tensor("float32", data.subarray(0, n / batch), [1, ...shape]) });
  const ts = [];
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    await s.run({ x });
    ts.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  ts.sort((a, b) => a - b);
  console.log(`ort\t${name}\tbatch=${batch}\t${(batch / ts[1]).toFixed(2)} img/s`);
  await s.release();
}
