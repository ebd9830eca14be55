import * as tf from '@tensorflow/tfjs';
import { problemKey, type Problem } from '../data/problem.ts';
import type { Experiment } from '../config/experiment.ts';
import { UserError } from '../errors.ts';
import { modelDecoder } from '../inference/decode.ts';
import { predict } from '../inference/predict.ts';
import { longestInPositionTable } from '../inference/query.ts';
import type { Prediction } from '../inference/prediction.ts';
import type { Gpt } from '../models/gpt.ts';
import { getPositionalEncoding, positionalLabel } from '../models/positional/index.ts';
import { readsRoles } from '../models/positional/positionIds.ts';
import { createRandom } from '../random.ts';
import type { ActivationCapture, CapturedActivation, Predictor, Probe, ProbeContext } from './probe.ts';
import { representableDigits } from './problemSets.ts';

export const DEFAULT_SAMPLES = 100;

export interface ProbeOptions {
  /** Problems per cell or bucket (default 100). */
  samples?: number;
  /** Longest operand length probed (default: twice the longest training length), capped to what fits. */
  maxDigits?: number;
  /** Seed of the probes' own problem draws (default: the run's seed). */
  seed?: number;
  /** Only these operand lengths, both operands equal (ProbeContext.lengths); sets the longest operand probed. */
  lengths?: readonly number[];
}

/**
 * The probes' shared setup. A length asked for explicitly (`maxDigits`, `lengths`) beyond what a coupled or
 * Abacus table (or randomized positions drawn at evaluation) can give ids is an error naming the field; the
 * default request is capped to it, as to every other limit.
 */
export function probeContext(experiment: Experiment, options: ProbeOptions = {}): ProbeContext {
  const lengths = options.lengths?.length ? [...new Set(options.lengths)].sort((a, b) => a - b) : null;
  const explicit = lengths ? lengths.at(-1)! : options.maxDigits;
  const requested = explicit ?? 2 * experiment.task.trainDigits[1];
  const table = tableLimit(experiment, requested, explicit !== undefined);
  let { maxDigits, limit } = representableDigits(experiment, Math.min(requested, table?.digits ?? requested));
  if (table && table.digits < requested) limit ??= table.reason;
  const probed = lengths?.filter((n) => n <= maxDigits) ?? null;
  if (probed?.length === 0)
    throw new UserError(`none of the lengths ${lengths!.join(', ')} can be probed: ${limit}`, { field: '--lengths' });
  return {
    experiment,
    seed: options.seed ?? experiment.config.seed,
    samples: options.samples ?? DEFAULT_SAMPLES,
    maxDigits,
    lengths: probed,
    requestedMaxDigits: requested,
    maxDigitsLimit: limit,
  };
}

/** The longest operands the encoding's position table holds, when `requested` exceeds it; throws when that was asked for explicitly. */
function tableLimit(experiment: Experiment, requested: number, explicit: boolean): { digits: number; reason: string } | null {
  const digits = longestInPositionTable(experiment, experiment.task.op);
  if (digits === null || digits >= requested) return null;
  const model = experiment.model;
  const field =
    model.randomPositions !== null && !readsRoles(getPositionalEncoding(model.pos)) ? 'model.random_positions' : 'model.max_position';
  const size = field === 'model.max_position' ? model.maxPosition : model.randomPositions;
  const reason = `the "${positionalLabel(model.pos)}" position ids (${field} ${size}) hold operands of at most ${digits} digits`;
  if (explicit) {
    throw new UserError(`${reason}; ${requested} were asked for: probe at most ${digits} digits, or train with a larger ${field}`, {
      field,
    });
  }
  return { digits, reason };
}

/** The model's predictions through the one inference path (src/inference), as training evaluates. */
export function modelPredictor(model: Gpt, experiment: Experiment): Predictor {
  const decode = modelDecoder(model);
  return (problems) => predict(decode, experiment, problems);
}

/**
 * One forward pass per sequence with the model's activation hook; copies out only the names asked for.
 * The hook keeps the wanted activations out of the tidy, and they are read with `await data()` after it
 * (tidy cannot wrap async code; a synchronous read throws on tfjs-webgpu in Node), then disposed.
 */
export function modelCapture(model: Gpt): ActivationCapture {
  return async (sequences, names, roles) => {
    const wanted = new Set(names);
    const results: Map<string, CapturedActivation>[] = [];
    for (const [index, ids] of sequences.entries()) {
      const kept = new Map<string, tf.Tensor>();
      // Evaluation-time position ids where the encoding takes them from roles (a random regime draws per sequence).
      const random = createRandom(0, `capture-positions:${ids.join(',')}`);
      const positions = roles?.[index] && model.positionIds(roles[index], { training: false, random });
      tf.tidy(() => {
        model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), {
          training: false,
          ...(positions && { positions: tf.tensor2d([positions], [1, ids.length], 'int32') }),
          hook: (name, activation) => {
            if (wanted.has(name) && !kept.has(name)) kept.set(name, tf.keep(activation.clone()));
          },
        });
      });
      try {
        const captured = new Map<string, CapturedActivation>();
        for (const [name, activation] of kept) {
          captured.set(name, { shape: activation.shape.slice(1), values: Float32Array.from(await activation.data()) });
        }
        results.push(captured);
      } finally {
        tf.dispose([...kept.values()]);
      }
    }
    return results;
  };
}

/** What probes run against: a predictor, and the model itself for probes that read activations. */
export interface ProbeTarget {
  predictor: Predictor;
  capture?: ActivationCapture;
}

export interface ProbeRun {
  name: string;
  result: object;
  /** Wall time of this probe, including decoding the problems no earlier probe had decoded. */
  seconds: number;
  /** Problems this probe asked for, and how many of them had to be decoded for it. */
  problems: number;
  decoded: number;
}

/**
 * Runs probes in order. Each distinct problem is decoded once: a probe decodes only what earlier probes have
 * not (digits and errors reuse the length grid), so a probe's seconds are what it added. Probes run one after
 * another (never concurrently), as decoding and capture read the GPU asynchronously.
 */
export async function runProbes(
  probes: readonly Probe[],
  target: ProbeTarget,
  context: ProbeContext,
  onDone?: (run: ProbeRun) => void,
): Promise<ProbeRun[]> {
  const decoded = new Map<string, Prediction>();
  const runs: ProbeRun[] = [];
  for (const probe of probes) {
    const started = performance.now();
    const problems: Problem[] = probe.problems?.(context) ?? [];
    const missing = new Map<string, Problem>();
    for (const problem of problems) {
      const key = problemKey(problem);
      if (!decoded.has(key)) missing.set(key, problem);
    }
    const fresh = await target.predictor([...missing.values()]);
    fresh.forEach((prediction) => decoded.set(problemKey(prediction.problem), prediction));
    if (probe.activations && !target.capture) throw new Error(`probe '${probe.name}' reads activations and needs a model`);
    const result = await probe.run(context, {
      predictions: problems.map((problem) => decoded.get(problemKey(problem))!),
      capture: probe.activations ? target.capture! : null,
    });
    const run = {
      name: probe.name,
      result,
      seconds: (performance.now() - started) / 1000,
      problems: problems.length,
      decoded: missing.size,
    };
    onDone?.(run);
    runs.push(run);
  }
  return runs;
}
