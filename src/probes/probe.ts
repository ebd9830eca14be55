import type { Problem } from '../data/problem.ts';
import type { Experiment } from '../config/experiment.ts';
import type { Prediction } from '../inference/prediction.ts';
import type { TokenRole } from '../contracts/tokenRoles.ts';

/**
 * Problems in, decoded predictions out (same order). Probes see a model only through this, so a test can
 * stand in a predictor whose mistakes are known and check that each probe files them in the right bucket.
 */
export type Predictor = (problems: Problem[]) => Promise<Prediction[]>;

/** One named activation of one sequence, batch dimension dropped: `blocks.0.attn.pattern` is [H, T, T]. */
export interface CapturedActivation {
  shape: number[];
  values: Float32Array;
}

/**
 * Runs the model on token sequences (starting with `<bos>`), returning the named activations per sequence.
 * Asynchronous, like Predictor: reads off the GPU must be (a synchronous read throws on tfjs-webgpu in Node).
 */
export type ActivationCapture = (
  sequences: number[][],
  names: string[],
  /** Per sequence, its tokens' roles, for encodings that take position ids from them (coupling, Abacus). */
  roles?: readonly (readonly TokenRole[])[],
) => Promise<Map<string, CapturedActivation>[]>;

/** What every probe may read: the run's derived setup and the shared probing options. */
export interface ProbeContext {
  experiment: Experiment;
  /** Seed of every problem set a probe draws (the run's seed unless asked otherwise). */
  seed: number;
  /** Problems per grid cell or bucket. */
  samples: number;
  /** Longest operand probed, after capping `requestedMaxDigits` to what the model and format can represent. */
  maxDigits: number;
  /**
   * Only these operand lengths (ascending, up to `maxDigits`), both operands equally long: far lengths then cost
   * one diagonal cell each rather than a row and a column of the grid. Null: the whole grid 1..maxDigits.
   */
  lengths: number[] | null;
  requestedMaxDigits: number;
  /** Why `maxDigits` is below the request, or null. */
  maxDigitsLimit: string | null;
}

export interface ProbeInputs {
  /** Predictions for exactly the problems the probe's `problems()` returned, in order (empty without it). */
  predictions: Prediction[];
  /** Present only for probes that declare `activations`. */
  capture: ActivationCapture | null;
}

/**
 * A probe is one file exporting one of these. It declares what it needs (problems to decode, named
 * activations), and turns them into plain JSON; the report draws that JSON and never recomputes.
 * Methods, not function properties: a registry holds probes of different result types (bivariant methods).
 */
export interface Probe<Result extends object = object> {
  name: string;
  /** One line for `--help` and the JSON. */
  description: string;
  /** Problems to decode greedily; the runner decodes each distinct problem once across all probes. */
  problems?(context: ProbeContext): Problem[];
  /** Activation names to capture (e.g. `blocks.0.attn.pattern`), for a model with this many layers. */
  activations?(layers: number): string[];
  /** Synchronous unless it reads activations (the capture is asynchronous); the runner awaits either. */
  run(context: ProbeContext, inputs: ProbeInputs): Result | Promise<Result>;
  /** A readable terminal rendering of the result. */
  table(result: Result): string;
}
