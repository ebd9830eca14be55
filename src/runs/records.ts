/** The records a run directory holds, as their JSON reads. Old runs may lack the optional fields. */

export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted';

/** run.json. */
export interface RunInfo {
  status: RunStatus;
  name: string;
  backend: string;
  started_at: string;
  updated_at: string;
  versions: Record<string, string>;
  git_commit: string | null;
  /** The torch engine's intra-op threads (absent on other backends): float sums, so the loss curve's last bits, depend on it. */
  threads?: number;
  /** The torch engine's float32 matmul precision, when not 'highest' (ARITH_MATMUL_PRECISION=high: TF32 on a GPU). */
  matmul_precision?: string;
  /** SHA-256 of the resolved config (runs/configHash.ts); a resume refuses a config.yaml that no longer matches. */
  config_sha256?: string;
  parameters?: number;
  step?: number;
  /** Seconds spent in optimizer steps (evaluation and checkpoints excluded), over all sessions. */
  train_seconds?: number;
  finished_at?: string;
  /** Why the run failed or stopped. */
  message?: string;
  /** The newest checkpoint, relative to the run directory. */
  checkpoint?: { step: number; dir: string };
  /** A run started by `train --fork`: the parent run directory, the checkpoint step it continued and the parent's config hash. */
  forked_from?: { run: string; step: number; config_sha256: string | null };
  /** One entry per `train --resume`: when, from which step, on which backend, lab commit and thread count. */
  resumes?: { at: string; step: number; backend: string; git_commit: string | null; threads?: number; matmul_precision?: string }[];
  result?: { accuracy: Record<string, number>; accuracy_in_range: number | null; accuracy_beyond: number | null };
}

/** One line of metrics.jsonl. Evaluation fields appear only on steps that evaluated. */
export interface MetricsRecord {
  step: number;
  loss: number;
  lr: number;
  tokens_per_s: number;
  grad_norm?: number;
  elapsed_s: number;
  /** The running-sum auxiliary loss (train.aux_loss) before its weight; `loss` is the cross-entropy plus weight × this. */
  aux_loss?: number;
  /** Exact-match accuracy by test length (both operands n digits). */
  accuracy?: Record<string, number>;
  accuracy_in_range?: number | null;
  accuracy_beyond?: number | null;
  /** With a weight average (train.ema): the online weights' accuracy on the same problems; `accuracy` is the average's. */
  online_accuracy?: Record<string, number>;
}

/** What `writeProbeRun` adds to every probe result in probes/<name>.json. */
export interface ProbeMeta {
  /** Checkpoint step the probe read. */
  step: number | null;
  seconds: number;
  problems: number;
  decoded: number;
}
