import { formatDuration } from '../duration.ts';

export interface ProgressState {
  step: number;
  total: number;
  loss: number;
  accuracy: number | null;
  tokensPerSecond: number;
}

/**
 * A one-line progress bar on stderr: redrawn in place on a terminal, printed every 10% otherwise (CI logs,
 * files), so it never floods a log.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;
  private lastDecile = -1;
  /** The step before the first one drawn: a resumed run's rate counts only the steps of this session. */
  private firstStep: number | null = null;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 24,
  ) {}

  render(state: ProgressState): string {
    const fraction = state.total > 0 ? state.step / state.total : 0;
    const filled = Math.round(fraction * this.width);
    const elapsed = (performance.now() - this.started) / 1000;
    const done = state.step - (this.firstStep ?? 0);
    const eta = done > 0 ? (elapsed / done) * (state.total - state.step) : Infinity;
    const accuracy = state.accuracy === null ? '  -  ' : `${(100 * state.accuracy).toFixed(1)}%`;
    return (
      `step ${String(state.step).padStart(String(state.total).length)}/${state.total} ` +
      `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${(100 * fraction).toFixed(0).padStart(3)}% | ` +
      `loss ${state.loss.toFixed(4)} | acc ${accuracy} | ${Math.round(state.tokensPerSecond).toLocaleString('en-US')} tok/s | ` +
      `ETA ${formatDuration(eta)}`
    );
  }

  update(state: ProgressState): void {
    this.firstStep ??= state.step - 1;
    const now = performance.now();
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100 && state.step < state.total) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.render(state)}\x1b[K`);
      return;
    }
    const decile = Math.floor((10 * state.step) / state.total);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(this.render(state) + '\n');
    }
  }

  /** Ends the in-place line so following output starts on a fresh line. */
  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }

  /** Prints a line above the bar without garbling it. */
  log(line: string): void {
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`);
  }
}
