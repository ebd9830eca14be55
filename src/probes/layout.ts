import { sequenceRoles, tokenizeExample } from '../data/batches.ts';
import type { TokenRole } from '../contracts/tokenRoles.ts';
import type { Problem } from '../data/problem.ts';
import type { Experiment } from '../config/experiment.ts';
import type { ActivationCapture, CapturedActivation } from './probe.ts';

/**
 * Where the digits of significance k sit in a training sequence, read from the roles the format declares for
 * each token (format.ts, `roles`): operand digits, answer digits (hints, spaces and scratch work between them
 * are other roles), so no probe re-reads a format's strings.
 */

export type Role = `a${number}` | `b${number}` | `answer${number}` | 'bos' | null;

export interface SequenceLayout {
  /** `<bos>` prompt target, without the final `<eos>`: what the model reads while writing the answer. */
  ids: number[];
  tokens: string[];
  /** Per token: operand digit `a3`, `b0`, answer digit `answer2` (significance), `bos`, or null. */
  roles: Role[];
  /** The format's role of each token (hints, operators, separators included). */
  tokenRoles: TokenRole[];
  /** Index of the first target token. */
  promptLength: number;
  /** Token index of answer digit k (by significance), for each k the written answer has. */
  answerTokens: number[];
}

function formatRoles(experiment: Experiment, problem: Problem) {
  const { format, formatOptions, tokenizer } = experiment;
  if (!format.roles) throw new Error(`format "${format.name}" declares no token roles`);
  const example = format.encode(problem, formatOptions);
  const { ids, promptLength } = tokenizeExample(example, tokenizer);
  // Without the final `<eos>`, as the sequence the model reads.
  return {
    ids: ids.slice(0, -1),
    promptLength,
    roles: sequenceRoles(example, format.roles(problem, formatOptions), tokenizer).slice(0, -1),
  };
}

/** The order this run's format writes answers in: whether the answer digits' significance rises along the target. */
export function answerOrder(experiment: Experiment): 'msb-first' | 'lsb-first' {
  const { roles } = formatRoles(experiment, { op: experiment.task.op, a: 12n, b: 1n });
  const answer = roles.filter((role) => role.kind === 'answer').map((role) => role.significance!);
  if (answer.length < 2) throw new Error(`format "${experiment.format.name}": fewer than two answer digits declared for 12+1`);
  return answer[1] > answer[0] ? 'lsb-first' : 'msb-first';
}

export function sequenceLayout(experiment: Experiment, problem: Problem): SequenceLayout {
  const { ids, promptLength, roles: tokenRoles } = formatRoles(experiment, problem);
  const tokens = ids.map((id) => experiment.tokenizer.tokens[id]);
  const roles = tokenRoles.map(({ kind, significance }, i): Role => {
    if (i === 0) return 'bos';
    if (kind === 'a' || kind === 'b') return `${kind}${significance!}`;
    return kind === 'answer' ? `answer${significance!}` : null;
  });
  const answerTokens: number[] = [];
  tokenRoles.forEach(({ kind, significance }, i) => {
    if (kind === 'answer') answerTokens[significance!] = i;
  });
  return { ids, tokens, roles, tokenRoles, promptLength, answerTokens };
}

/**
 * Teacher-forced activations of problems written as training writes them: each problem's layout and, for each,
 * the named activations of its one forward pass.
 */
export async function captureLayouts(
  experiment: Experiment,
  capture: ActivationCapture,
  problems: readonly Problem[],
  names: string[],
): Promise<{ layouts: SequenceLayout[]; captured: Map<string, CapturedActivation>[] }> {
  const layouts = problems.map((problem) => sequenceLayout(experiment, problem));
  const captured = await capture(
    layouts.map((layout) => layout.ids),
    names,
    layouts.map((layout) => layout.tokenRoles),
  );
  return { layouts, captured };
}
