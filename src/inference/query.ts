import { decodeBudget, formatBytes, longestDecodable } from '../config/memoryEstimate.ts';
import type { TokenRole } from '../contracts/tokenRoles.ts';
import { digitCount, longestProblem, problemKey, type Op, type Problem } from '../data/problem.ts';
import { BOS_ID } from '../data/tokenizer.ts';
import { hasRoleTable } from '../models/positional/roleTable.ts';
import { getPositionalEncoding, positionalLabel } from '../models/positional/index.ts';
import { positionIds } from '../models/positional/positionIds.ts';
import { createRandom } from '../random.ts';
import { allNines, generationBudget } from './budget.ts';
import type { InferenceSetup } from './setup.ts';

/** A problem ready to decode: its prompt as the run writes it, the tokens fed (from `<bos>`), its budget. */
export interface Query {
  problem: Problem;
  prompt: string;
  ids: number[];
  maxNew: number;
  /**
   * Position ids of the prompt and of every token generation may feed back (ids.length + maxNew of them), where
   * the model's encoding gives sequences their own; absent: 0, 1, 2, ...
   */
  positions?: number[];
}

const SPECIAL: TokenRole = { kind: 'special', significance: null };

/**
 * Evaluation-time position ids: the prompt's roles, then the roles the answer will have. Those come from the
 * all-nines problem of the same operand lengths, never from the true answer; formats whose answer digits'
 * significance depends on the answer itself are refused by the config check for role-reading encodings.
 */
function queryPositions(setup: InferenceSetup, problem: Problem, promptTokens: number, maxNew: number): number[] | undefined {
  const { format, formatOptions, model } = setup;
  const pe = getPositionalEncoding(model.pos);
  if (!format.roles || (!pe.positionsFromRoles && !pe.positionIndexed)) return undefined;
  const nines: Problem = { op: problem.op, a: allNines(problem.a), b: allNines(problem.b) };
  const promptRoles = format.roles(problem, formatOptions).prompt;
  if (1 + promptRoles.length !== promptTokens) throw new Error(`${promptRoles.length} roles for a prompt of ${promptTokens - 1} tokens`);
  const roles = [SPECIAL, ...promptRoles, ...format.roles(nines, formatOptions).target];
  while (roles.length < promptTokens + maxNew) roles.push(SPECIAL);
  const random = createRandom(0, `eval-positions:${problemKey(problem)}`);
  return positionIds(pe, model, roles.slice(0, promptTokens + maxNew), { training: false, random }) ?? undefined;
}

type QueryResult = { ok: true; query: Query } | { ok: false; error: string };

/**
 * Writes a problem exactly as training shows its prompt (`<bos>` + prompt). Fails, with a reason, when the
 * format cannot write it for this run (index hints beyond the run's longest operand) or the prompt leaves no
 * room in a learned position table.
 */
export function writeQuery(setup: InferenceSetup, problem: Problem): QueryResult {
  const { format, formatOptions, tokenizer, model } = setup;
  // Encodings that extrapolate have no table to end them, so memory does: the prompt's attention scores grow with
  // the square of its length. Every operand digit is at least one token, so a problem too long by that count is
  // refused before it is even written out.
  const budget = decodeBudget();
  const longest = longestDecodable(model, budget);
  const tooLong = (tokens: number): QueryResult => ({
    ok: false,
    error:
      `the problem needs at least ${tokens.toLocaleString('en-US')} tokens; decoding more than ${longest.toLocaleString('en-US')} ` +
      `would take over ${formatBytes(budget)} of memory (operands of up to about ${Math.floor(longest / 3).toLocaleString('en-US')} digits fit)`,
  });
  const digits = digitCount(problem.a) + digitCount(problem.b);
  if (digits > longest) return tooLong(digits);
  let prompt: string;
  let ids: number[];
  let maxNew: number;
  let positions: number[] | undefined;
  try {
    prompt = format.encode(problem, formatOptions).prompt;
    ids = [BOS_ID, ...tokenizer.encode(prompt)];
    maxNew = generationBudget(setup, problem, ids.length);
  } catch (error) {
    return { ok: false, error: `format "${format.name}" cannot write this problem for this run: ${(error as Error).message}` };
  }
  try {
    positions = queryPositions(setup, problem, ids.length, maxNew);
  } catch (error) {
    const longestFitting = longestInPositionTable(setup, problem.op);
    const fits = longestFitting ? `; operands of up to ${longestFitting} digits fit` : '';
    return { ok: false, error: `${(error as Error).message}${fits}` };
  }
  if (ids.length + maxNew > longest) return tooLong(ids.length + maxNew);
  if (maxNew < 1) {
    return {
      ok: false,
      error: `the prompt takes ${ids.length} tokens; the learned "${positionalLabel(model.pos)}" positions end at model.max_len ${model.maxLen}`,
    };
  }
  return { ok: true, query: { problem, prompt, ids, maxNew, ...(positions && { positions }) } };
}

/** Whether the problem's evaluation position ids can be drawn (they fit the encoding's table). */
function positionsFit(setup: InferenceSetup, problem: Problem): boolean {
  try {
    const ids = [BOS_ID, ...setup.tokenizer.encode(setup.format.encode(problem, setup.formatOptions).prompt)];
    queryPositions(setup, problem, ids.length, generationBudget(setup, problem, ids.length));
    return true;
  } catch {
    return false;
  }
}

/**
 * The longest operand length (both operands that long) whose evaluation position ids fit the encoding's table:
 * model.max_position rows for coupled and Abacus, model.random_positions for randomized positions drawn at
 * evaluation. Null where ids never run out (every other encoding). Position ids grow with the operands, so the
 * first length that does not fit ends the search.
 */
export function longestInPositionTable(setup: InferenceSetup, op: Op): number | null {
  const { model, format } = setup;
  const pe = getPositionalEncoding(model.pos);
  const drawnAtEvaluation = pe.positionIndexed && model.randomPositions !== null && model.randomPositionsEval === 'random';
  if (!format.roles || !(pe.positionsFromRoles || drawnAtEvaluation)) return null;
  // Role ids without a table (model.role_table: false) never run out.
  if (pe.positionsFromRoles && !hasRoleTable(model)) return null;
  let digits = 0;
  while (positionsFit(setup, longestProblem(op, digits + 1))) digits++;
  return digits;
}
