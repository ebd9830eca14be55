/**
 * A mistake in what the user gave us (config, flags, run directory). The CLI prints it as one line and exits 2;
 * programming errors are left as ordinary Errors so they keep their stack.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly details: { file?: string; field?: string } = {},
  ) {
    super(message);
    this.name = 'UserError';
  }

  /** One line: `file: field: message`. */
  override toString(): string {
    const where = [this.details.file, this.details.field].filter(Boolean).join(': ');
    return where ? `${where}: ${this.message}` : this.message;
  }
}

/**
 * A run that stopped for a reason the user must see but that is not a bug: it diverged, or a signal interrupted
 * it. The CLI prints the message as one line and exits with `exitCode`.
 */
export class RunStoppedError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'RunStoppedError';
  }
}
