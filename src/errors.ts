// C0 and C1 control characters, DEL, and the bidirectional overrides that can reorder what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this expression's job.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from a user's file or input, made safe for one terminal line: control characters become escapes
 * (`\n`, `\x1b`, `\u202e`), so a binary file or an escape sequence in a key can neither garble the terminal nor
 * split the line.
 */
export function escapeControl(text: string): string {
  return text.replace(UNPRINTABLE, (char) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    if (named[char]) return named[char];
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A user's input quoted for a message: at most `max` characters of it, and its length when it is longer. */
export function quoteInput(text: string, max = 60): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}... (${text.length.toLocaleString('en-US')} characters)`;
}

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

  /** One line, `file: field: message`, with control characters escaped (the parts may quote the user's input). */
  override toString(): string {
    const where = [this.details.file, this.details.field].filter(Boolean).join(': ');
    return escapeControl(where ? `${where}: ${this.message}` : this.message);
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
