import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import readline from 'node:readline';
import type { TokenBatch } from '../src/data/batches.ts';
import { batchLine } from './pytorchModel.ts';

/** What pytorch_bench.py --lockstep says about its model before the first step. */
export interface PartnerFacts {
  torch: string;
  device: string;
  threads: number;
  parameters: number;
}

/** One PyTorch step: wall and process CPU milliseconds, the loss. */
export interface PartnerStep {
  ms: number;
  cpuMs: number;
  loss: number;
}

/**
 * PyTorch training one step at a time (bench/pytorch_bench.py --lockstep) in a process of its own, so the
 * bench can alternate its steps with ours: both engines then run through the same slow and fast seconds of a
 * shared machine, and the ratio of a step pair compares work done a few milliseconds apart.
 */
export class PytorchPartner {
  private readonly lines: AsyncIterator<string>;
  /** The end of its stderr, for the error when it fails. */
  private stderr = '';
  facts: PartnerFacts = { torch: '', device: '', threads: 0, parameters: 0 };

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts `python bench/pytorch_bench.py --lockstep ...args` and waits until its model is built. */
  static async start(python: string, args: string[], env: NodeJS.ProcessEnv): Promise<PytorchPartner> {
    const partner = new PytorchPartner(spawn(python, ['bench/pytorch_bench.py', '--lockstep', ...args], { env }));
    const { ready: _, ...facts } = JSON.parse(await partner.nextLine()) as PartnerFacts & { ready: boolean };
    partner.facts = facts;
    return partner;
  }

  /** Trains PyTorch's model one step on `batch` and returns its times. */
  async step(batch: TokenBatch): Promise<PartnerStep> {
    this.child.stdin.write(batchLine(batch));
    const { ms, cpu_ms: cpuMs, loss } = JSON.parse(await this.nextLine()) as { ms: number; cpu_ms: number; loss: number };
    return { ms, cpuMs, loss };
  }

  /** Closes its input, so it exits; resolves when it has. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await exited;
  }

  private async nextLine(): Promise<string> {
    const line = await this.lines.next();
    if (line.done) throw new Error(`bench/pytorch_bench.py --lockstep stopped: ${lastLines(this.stderr)}`);
    return line.value;
  }
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' | ') || 'no output';
