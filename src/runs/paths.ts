import path from 'node:path';

/**
 * The names of everything in a run directory:
 *   config.yaml                       the resolved config (every default filled in)
 *   run.json                          RunInfo: status, provenance, progress, the newest checkpoint, the result
 *   metrics.jsonl                     one MetricsRecord per logged step
 *   checkpoints/step-NNNNNN/          model.safetensors, optimizer.safetensors, state.json, checksums.sha256
 *   probes/<name>.json                a probe's result on the newest checkpoint (probes/step-S/ for an older one)
 *   probes/length-by-step.jsonl       train.probe_every: the length grid at each probed step
 *   report.html                       the run's report page
 *   run.lock                          held by the process training the run (pid and command)
 */
export const CONFIG_FILE = 'config.yaml';
export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const REPORT_FILE = 'report.html';
export const CHECKPOINTS_DIR = 'checkpoints';
export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'state.json';
/** SHA-256 of every other file of a checkpoint, in `sha256sum` format (`sha256sum -c` checks it). */
export const CHECKSUMS_FILE = 'checksums.sha256';
export const RUN_LOCK_FILE = 'run.lock';
export const PROBES_DIR = 'probes';
/** Written by `train.probe_every`: one JSON line per probed step, to plot accuracy by length against step. */
export const LENGTH_BY_STEP_FILE = 'length-by-step.jsonl';

/** `step-000500`: zero-padded, so folder names sort by step. */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

export function metricsFile(runDir: string): string {
  return path.join(runDir, METRICS_FILE);
}

export function checkpointsDir(runDir: string): string {
  return path.join(runDir, CHECKPOINTS_DIR);
}

/** `probes/`, or `probes/step-<S>/` for probes of a checkpoint other than the newest. */
export function probesDir(runDir: string, checkpointStep: number | null = null): string {
  return checkpointStep === null ? path.join(runDir, PROBES_DIR) : path.join(runDir, PROBES_DIR, `step-${checkpointStep}`);
}

export function probeFile(runDir: string, name: string, checkpointStep: number | null = null): string {
  return path.join(probesDir(runDir, checkpointStep), `${name}.json`);
}

export function lengthByStepFile(runDir: string): string {
  return path.join(runDir, PROBES_DIR, LENGTH_BY_STEP_FILE);
}
