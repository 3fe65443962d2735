#!/usr/bin/env node
// One ONNX file in ONNX Runtime (the npm package onnxruntime-node, whose CPU library ships inside
// it), as its users would run it, beside inkwell's figures for the same file:
//   in memory: MNIST's 10k test images, normalised as the file's metadata says, at batch 256 and
//     batch 1, on one session with 1 or 2 intra-op threads, or two sessions of one thread each
//     side by side (the best is kept);
//   end to end: a folder of PNGs (inkwell-export's tree), read and decoded with pngjs, normalised,
//     batched by 256, one CSV row a file;
//   labels: its accuracy on the 10k test images and, with --labels CSV (inkwell-classify's output
//     on the same tree), how often it gives inkwell's label to the same file.
// Setup (once, anywhere): npm install --ignore-scripts onnxruntime-node pngjs, then run with
// NODE_PATH=that/node_modules. Usage:
//   node bench/compare_onnx.mjs MODEL.onnx TREE [--labels inkwell.csv] [--repeats 3]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const { PNG } = require('pngjs');

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : fallback; };
const labelsCsv = option('--labels', '');
const repeats = Number(option('--repeats', '3'));
const [modelPath, tree] = args;
if (!modelPath || !tree) { console.error('usage: compare_onnx.mjs MODEL.onnx TREE [--labels CSV] [--repeats N]'); process.exit(2); }

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dataDir = process.env.INKWELL_DATA || path.join(process.env.XDG_CACHE_HOME || path.join(process.env.HOME, '.cache'), 'inkwell');
function idx(name) {
  for (const f of [name, name + '.gz']) {
    const p = path.join(dataDir, 'mnist', f);
    if (fs.existsSync(p)) { const b = fs.readFileSync(p); return f.endsWith('.gz') ? zlib.gunzipSync(b) : b; }
  }
  throw new Error(`${name} not found under ${dataDir}/mnist (run data/fetch mnist)`);
}

async function session(threads) {
  return ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1,
                                                 graphOptimizationLevel: 'all', executionMode: 'sequential' });
}
const s2 = await session(2);
const meta = await (async () => {
  // The file's normalisation (inkwell's metadata), else MNIST's.
  const text = fs.readFileSync(modelPath);
  const m = /inkwell\.normalization\x12.([0-9.e+-]+) ([0-9.e+-]+)/s.exec(text.toString('latin1'));
  return m ? { mean: Number(m[1]), std: Number(m[2]) } : { mean: 0.1307, std: 0.3081 };
})();
const inputName = s2.inputNames[0], outputName = s2.outputNames[0];

const images = idx('t10k-images-idx3-ubyte').subarray(16), labels = idx('t10k-labels-idx1-ubyte').subarray(8);
const n = labels.length;
const x = new Float32Array(n * 784);
for (let i = 0; i < x.length; ++i) x[i] = (images[i] / 255 - meta.mean) / meta.std;

async function run(s, from, count) {
  const t = new ort.Tensor('float32', x.subarray(from * 784, (from + count) * 784), [count, 1, 28, 28]);
  return (await s.run({ [inputName]: t }))[outputName].data;
}
function argmax(d, row, classes) { let b = 0; for (let c = 1; c < classes; ++c) if (d[row * classes + c] > d[row * classes + b]) b = c; return b; }

// In memory: one session of 1 or 2 threads, or two sessions of 1 thread each running batches
// side by side (run() is asynchronous: each session computes on its own thread).
const s1 = await session(1), s1b = await session(1);
for (const batch of [256, 1]) {
  const images = batch === 1 ? 2000 : n;
  const rates = {};
  for (const [name, sessions] of [['1 thread', [s1]], ['2 threads', [s2]], ['2 sessions x 1 thread', [s1, s1b]]]) {
    const times = [];
    for (const s of sessions) await run(s, 0, batch);  // warm up
    for (let r = 0; r < repeats; ++r) {
      const t0 = process.hrtime.bigint();
      await Promise.all(sessions.map(async (s, k) => {
        for (let i = k * batch; i + batch <= images; i += batch * sessions.length) await run(s, i, batch);
      }));
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    rates[name] = Math.floor(images / batch) * batch / median(times);
  }
  const best = Object.entries(rates).sort((a, b) => b[1] - a[1])[0];
  console.log(`ONNX Runtime ${ort.env.versions?.common ?? ''} in memory, batch ${batch}: ${Math.round(best[1])} img/s (${best[0]}; ` +
              Object.entries(rates).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ') + ')');
}

// Labels on the 10k test images.
const predicted = new Int32Array(n);
for (let i = 0; i < n; i += 256) {
  const count = Math.min(256, n - i), out = await run(s2, i, count), classes = out.length / count;
  for (let r = 0; r < count; ++r) predicted[i + r] = argmax(out, r, classes);
}
let right = 0;
for (let i = 0; i < n; ++i) right += predicted[i] === labels[i];
console.log(`ONNX Runtime accuracy on the 10k test images: ${(100 * right / n).toFixed(2)}%`);
// End to end over the folder.
function walk(dir) { return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)
  .flatMap((e) => e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.png') ? [path.join(dir, e.name)] : []); }
const times = [], folderLabels = new Map();
for (let r = 0; r < repeats; ++r) {
  const t0 = process.hrtime.bigint();
  const files = walk(tree), rowsOut = ['path,label,confidence'];
  for (let i = 0; i < files.length; i += 256) {
    const batch = files.slice(i, i + 256), input = new Float32Array(batch.length * 784);
    batch.forEach((f, k) => {
      const png = PNG.sync.read(fs.readFileSync(f), { colorType: 0, inputColorType: 0 });
      for (let p = 0; p < 784; ++p) input[k * 784 + p] = (png.data[p * 4] / 255 - meta.mean) / meta.std;
    });
    const out = (await s2.run({ [inputName]: new ort.Tensor('float32', input, [batch.length, 1, 28, 28]) }))[outputName].data;
    const classes = out.length / batch.length;
    batch.forEach((f, k) => {
      const b = argmax(out, k, classes);
      rowsOut.push(`${f},${b},${out[k * classes + b]}`);
      folderLabels.set(f, String(b));
    });
  }
  fs.writeFileSync('/dev/null', rowsOut.join('\n'));
  times.push(Number(process.hrtime.bigint() - t0) / 1e9 / files.length);
}
console.log(`ONNX Runtime end to end over ${tree}: ${Math.round(1 / median(times))} img/s (pngjs decode, batch 256, 2 threads)`);
if (labelsCsv) {
  // inkwell-classify's rows on the same tree: path,label,... (the same pixels: MNIST-like PNGs
  // pass inkwell's preprocessing unchanged, others are centred as MNIST's were, so compare
  // with --preprocess left at its default only on MNIST-like trees).
  let same = 0, rows = 0;
  for (const line of fs.readFileSync(labelsCsv, 'utf8').split('\n').slice(1)) {
    const [file, label] = line.split(',');
    if (!folderLabels.has(file)) continue;
    ++rows;
    if (folderLabels.get(file) === label) ++same;
    else if (rows - same <= 5) console.log(`  differs: ${line} (ONNX Runtime: ${folderLabels.get(file)})`);
  }
  console.log(`ONNX Runtime gives inkwell's label on ${same} of ${rows} files`);
}
