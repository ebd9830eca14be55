/**
 * Time to decode far lengths: greedy decoding through the one inference path (write the query, position ids,
 * generation budget, batched KV-cache decoding, parse, score) of a model shaped like configs/addition-coupled.yaml,
 * N problems per operand length (both operands n digits).
 *   node bin/run-ts.js bench/farDecoding.ts [--backend torch] [--lengths 10,20,40,60,80,100] [--samples 50]
 *                                           [--config configs/addition-coupled.yaml] [--out bench/results]
 * The weights are random, with the `<eos>` row of the (tied) token embedding zeroed and the others of unit
 * scale, so `<eos>` is never the argmax and every problem runs its whole generation budget: the worst case, an
 * upper bound on what a trained model takes. Prints a table and writes JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/backends/select.ts';
import { loadConfig } from '../src/config/load.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { sampleOperand } from '../src/data/sampling.ts';
import { EOS_ID } from '../src/data/tokenizer.ts';
import { modelDecoder } from '../src/inference/decode.ts';
import { answerQueries } from '../src/inference/predict.ts';
import { writeQuery, type Query } from '../src/inference/query.ts';
import { Gpt } from '../src/models/gpt.ts';
import { createRandom } from '../src/random.ts';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const lengths = argument('lengths', '10,20,40,60,80,100').split(',').map(Number);
const samples = Number(argument('samples', '50'));
const configFile = argument('config', 'configs/addition-coupled.yaml');
const longest = Math.max(...lengths);
// The table must hold the longest test length's ids (coupled: significance + 3 rows).
const config = loadConfig(configFile, [`task.test_digits=[1,${longest}]`, `model.max_position=${Math.max(128, longest + 8)}`]);
const backend = await selectBackend(argument('backend', 'torch') as BackendName);
const experiment = prepareExperiment(config);
const model = new Gpt(experiment.model, config.seed);
const wte = model.params['wte.weight'];
tf.tidy(() => {
  const keep = tf.scalar(1).sub(tf.oneHot([EOS_ID], wte.shape[0]).reshape([-1, 1]));
  wte.assign(tf.randomNormal(wte.shape, 0, 1, 'float32', 1).mul(keep));
});
const decode = modelDecoder(model);

interface Row {
  digits: number;
  problems: number;
  promptTokens: number;
  generatedTokens: number;
  seconds: number;
}
const rows: Row[] = [];
console.log(`backend ${backend}, ${configFile} (pos ${config.model.pos}, d_model ${config.model.d_model}), ${samples} problems per length`);
console.log('digits  prompt  generated/problem  seconds  ms/problem  generated tokens/s');
for (const digits of lengths) {
  const random = createRandom(0, `bench:far:${digits}`);
  const queries: Query[] = Array.from({ length: samples }, () => {
    const written = writeQuery(experiment, { op: config.task.op, a: sampleOperand(random, digits), b: sampleOperand(random, digits) });
    if (!written.ok) throw new Error(written.error);
    return written.query;
  });
  const started = performance.now();
  const predictions = await answerQueries(decode, experiment, queries);
  const seconds = (performance.now() - started) / 1000;
  const generated = predictions.reduce((n, p) => n + experiment.tokenizer.encode(p.output).length, 0);
  const row = { digits, problems: samples, promptTokens: queries[0].ids.length, generatedTokens: generated, seconds };
  rows.push(row);
  console.log(
    `${String(digits).padStart(6)}  ${String(row.promptTokens).padStart(6)}  ${(generated / samples).toFixed(0).padStart(17)}  ${seconds.toFixed(2).padStart(7)}  ${((1000 * seconds) / samples).toFixed(1).padStart(10)}  ${Math.round(
      generated / seconds,
    )
      .toLocaleString('en-US')
      .padStart(18)}`,
  );
}
model.dispose();
const out = argument('out', 'bench/results');
fs.mkdirSync(out, { recursive: true });
const file = path.join(out, `far-decoding-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, JSON.stringify({ backend, config: configFile, pos: config.model.pos, samples, rows }, null, 2) + '\n');
console.log(`wrote ${file}`);
