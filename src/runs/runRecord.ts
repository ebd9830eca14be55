import path from 'node:path';
import { writeRunInfo } from './runDirectory.ts';
import type { RunInfo } from './records.ts';

/** Who is training: written into run.json when a run starts or resumes. */
export interface RunProvenance {
  backend: string;
  git_commit: string | null;
  /** The torch engine's threads; null on backends without a thread setting. */
  threads: number | null;
  /** The torch engine's float32 matmul precision when not the default 'highest' (e.g. 'high': TF32), else null. */
  matmul_precision?: string | null;
}

/**
 * One line for a run resumed with another thread count than it trained with (null when nothing changed or
 * nothing is known): the run continues the same computation, but its floats are summed in another order.
 */
export function threadChangeNote(trained: number | undefined, now: number | null): string | null {
  if (trained === undefined || now === null || trained === now) return null;
  return (
    `note: this run trained with ${trained} thread${trained === 1 ? '' : 's'} and resumes with ${now}: it continues, ` +
    `but its loss curve will not repeat bit for bit (floats are summed in another order); ARITH_THREADS=${trained} resumes it exactly`
  );
}

/** Seconds as run.json keeps them (one decimal). */
const rounded = (seconds: number) => Number(seconds.toFixed(1));

/**
 * run.json through a training session: `start` or `resume` marks it running, `checkpointed` records progress
 * and the newest checkpoint, and the session ends in exactly one of `interrupted`, `failed` or `finished`.
 * Every change is written at once (atomically), so a crash leaves the last state on disk.
 */
export class RunRecord {
  private constructor(
    readonly runDir: string,
    private info: RunInfo,
  ) {
    writeRunInfo(runDir, info);
  }

  /** A new run at step 0. */
  static start(
    runDir: string,
    run: RunProvenance & { name: string; versions: Record<string, string>; parameters: number; configHash: string },
  ): RunRecord {
    return new RunRecord(runDir, {
      status: 'running',
      name: run.name,
      backend: run.backend,
      started_at: new Date().toISOString(),
      updated_at: '',
      versions: run.versions,
      git_commit: run.git_commit,
      ...(run.threads === null ? {} : { threads: run.threads }),
      ...(run.matmul_precision ? { matmul_precision: run.matmul_precision } : {}),
      config_sha256: run.configHash,
      parameters: run.parameters,
      step: 0,
    });
  }

  /**
   * The run in `runDir` continuing at `step`, from the checkpoint folder `checkpointDir` (null: it stopped before
   * its first checkpoint). The outcome of the previous session is cleared; a resume entry is added. A run from
   * before config hashes gets one (its config was checked against the checkpoint's shapes only). `previous` is
   * the run.json the caller read (it also decides what to say about the resume).
   */
  static resume(
    runDir: string,
    previous: RunInfo,
    run: RunProvenance & { step: number; checkpointDir: string | null; configHash: string },
  ): RunRecord {
    return new RunRecord(runDir, {
      ...previous,
      config_sha256: previous.config_sha256 ?? run.configHash,
      status: 'running',
      backend: run.backend,
      step: run.step,
      message: undefined,
      finished_at: undefined,
      result: undefined,
      checkpoint: run.checkpointDir ? { step: run.step, dir: path.relative(runDir, run.checkpointDir) } : undefined,
      resumes: [
        ...(previous.resumes ?? []),
        {
          at: new Date().toISOString(),
          step: run.step,
          backend: run.backend,
          git_commit: run.git_commit,
          ...(run.threads === null ? {} : { threads: run.threads }),
          ...(run.matmul_precision ? { matmul_precision: run.matmul_precision } : {}),
        },
      ],
    });
  }

  /** For error messages: where the run can be continued from. */
  describeCheckpoint(): string {
    const checkpoint = this.info.checkpoint;
    return checkpoint
      ? `last good checkpoint: step ${checkpoint.step} (${path.join(this.runDir, checkpoint.dir)})`
      : 'no checkpoint was written';
  }

  /** A checkpoint folder for `step` was written. */
  checkpointed(step: number, checkpointDir: string, trainSeconds: number): void {
    this.info.checkpoint = { step, dir: path.relative(this.runDir, checkpointDir) };
    writeRunInfo(this.runDir, { ...this.info, step, train_seconds: rounded(trainSeconds) });
  }

  interrupted(step: number, trainSeconds: number, message: string): void {
    this.info = { ...this.info, status: 'interrupted', step, train_seconds: rounded(trainSeconds), message };
    writeRunInfo(this.runDir, this.info);
  }

  failed(step: number, trainSeconds: number, message: string): void {
    this.info = { ...this.info, status: 'failed', step, train_seconds: rounded(trainSeconds), message };
    writeRunInfo(this.runDir, this.info);
  }

  finished(step: number, trainSeconds: number, result: NonNullable<RunInfo['result']>): void {
    this.info = {
      ...this.info,
      status: 'finished',
      step,
      finished_at: new Date().toISOString(),
      train_seconds: rounded(trainSeconds),
      result,
    };
    writeRunInfo(this.runDir, this.info);
  }
}
