import type { TokenRole } from '../../contracts/tokenRoles.ts';
import type { Op, Problem } from '../problem.ts';

/**
 * One training example as text. `prompt + target` is the training string byte-exact to the papers' own
 * generated data (docs/formats.md); at test time the model sees `prompt` and must generate `target`.
 * End-of-sequence is the tokenizer's job (an `<eos>` token after the target), not part of these strings.
 */
export interface Example {
  prompt: string;
  target: string;
}

/** One role per token of an example's prompt and target, as the tokenizer splits them. */
export interface ExampleRoles {
  prompt: TokenRole[];
  target: TokenRole[];
}

export type ParseResult = { ok: true; answer: bigint } | { ok: false; error: string };

export interface FormatOptions {
  /**
   * Operand width for fixed-width formats (zero-padded: Lee's max train width; reversed-padded: Qiu's 5).
   * Widths are minimums: longer operands are never cut.
   */
  padWidth: number;
  /**
   * Zeros written beyond the longer operand by reversed-padded (format.pad_extra): it pads both operands to
   * max(padWidth, longer operand) + padExtra digits. Absent: 0.
   */
  padExtra?: number;
  /** Longest operand the run will ever show the model (train or test); sizes index-hint vocabularies. */
  maxDigits: number;
}

export interface DataFormat {
  /** Registry name used in configs (`format.name`). */
  name: string;
  /** One line for `--help` and error messages. */
  description: string;
  /** Operations this format can express. */
  ops: readonly Op[];
  encode(problem: Problem, options: FormatOptions): Example;
  /**
   * Reads the answer back from generated text (the part after the prompt, up to but excluding `<eos>`).
   * Must accept exactly what `encode` produces as `target`, and reject malformed text with a reason.
   */
  parse(generated: string, options: FormatOptions): ParseResult;
  /**
   * Every token this format can emit. Single characters, except multi-character symbols such as index
   * hints (`h12`), which the tokenizer matches longest-first.
   */
  vocabulary(options: FormatOptions): string[];
  /**
   * The role of every token of `encode`'s prompt and target, computed from the problem (never by reading the
   * strings back): position coupling, Abacus and the attention probe read digits' significance from here.
   * null: the format declares no roles, and encodings that need them refuse it.
   */
  roles: ((problem: Problem, options: FormatOptions) => ExampleRoles) | null;
}
