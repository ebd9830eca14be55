import type { TokenRole } from '../contracts/tokenRoles.ts';
import type { Example, ExampleRoles } from './formats/format.ts';
import { COT_ANSWER_MARKER } from './formats/cot-multiplication.ts';

/**
 * Stepwise internalization of a chain of thought (Deng et al. 2024, "From Explicit CoT to Implicit CoT: Learning
 * to Internalize CoT Step by Step", code github.com/da03/Internalize_CoT_Step_by_Step): training starts on the
 * full chain of thought, and every stage removes `tokens_per_stage` more of its tokens from the left, until the
 * model writes ` #### ` and the answer right after the prompt. The stage is a function of the step alone, so a
 * resumed run trains at the stage it was interrupted in. (Deng removes 8 GPT-2 tokens per epoch; our tokens are
 * characters, spaces included.)
 */
export interface InternalizeSchedule {
  every: number;
  tokens_per_stage: number;
}

/** Chain-of-thought tokens removed at optimizer step `step` (1-based; stage 0 covers steps 1..every). */
export function internalizedTokens(schedule: InternalizeSchedule | null, step: number): number {
  if (!schedule || step < 1) return 0;
  return Math.floor((step - 1) / schedule.every) * schedule.tokens_per_stage;
}

/** Tokens of the chain of thought in a target (single-character tokens before ` #### `), or null without one. */
export function chainOfThoughtLength(example: Example): number | null {
  const at = example.target.indexOf(COT_ANSWER_MARKER);
  return at === -1 ? null : at;
}

/** The example with its first `removed` chain-of-thought tokens cut (at most all of them), roles cut alike. */
export function internalizeExample(
  example: Example,
  roles: ExampleRoles | null,
  removed: number,
): { example: Example; roles: ExampleRoles | null } {
  const length = chainOfThoughtLength(example);
  if (length === null) throw new Error(`no chain of thought (' #### ') in target ${JSON.stringify(example.target)}`);
  const cut = Math.min(removed, length);
  const target: TokenRole[] | undefined = roles?.target.slice(cut);
  return {
    example: { prompt: example.prompt, target: example.target.slice(cut) },
    roles: roles && target ? { prompt: roles.prompt, target } : null,
  };
}
