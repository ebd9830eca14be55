import type { FormatOptions } from '../data/formats/format.ts';
import { FORMAT_NAMES, getFormat } from '../data/formats/index.ts';
import { longestProblem, type Op, type Problem } from '../data/problem.ts';
import { getPositionalEncoding, POSITIONAL_NAMES, positionalLabel, positionalNames } from '../models/positional/index.ts';
import { readsRoles } from '../models/positional/positionIds.ts';
import { hasRoleTable, maxSignificance } from '../models/positional/roleTable.ts';
import { type DataSetup, longestSequence } from './dataSetup.ts';
import { positionalOptions } from './positionalOptions.ts';
import type { Config } from './schema.ts';

type Fail = (field: string, message: string) => never;

/**
 * Whether decoding can know each answer token's role before writing it: the roles of the answer digits must
 * be the same for every problem of the same operand lengths (reversed or padded answers), since evaluation
 * takes them from the all-nines problem, never from the true answer.
 */
function answerRolesKnownInAdvance(name: string, op: Op, options: FormatOptions): boolean {
  const format = getFormat(name);
  if (!format.roles || !format.ops.includes(op)) return false;
  for (const digits of [1, 2, 3]) {
    const nines = longestProblem(op, digits);
    const small: Problem = { op, a: 10n ** BigInt(digits - 1), b: 10n ** BigInt(digits - 1) };
    const expected = format.roles(nines, options).target;
    const actual = format.roles(small, options).target;
    const differs = actual.some(
      (role, i) => role.kind === 'answer' && (expected[i]?.kind !== 'answer' || expected[i].significance !== role.significance),
    );
    if (differs) return false;
  }
  return true;
}

/**
 * Rules for position ids: encodings that read token roles need a format that declares them (and answers whose
 * digit roles are known while decoding), a role table large enough for the test lengths, and randomized
 * positions a range L that holds the longest test sequence. Each failure is one line naming the fields.
 */
export function checkPositions(config: Config, data: DataSetup, fail: Fail): void {
  const { model, format, task } = config;
  const pe = getPositionalEncoding(model.pos);
  // A list of schemes reads as one: [abacus, fire] reads roles, its ids are Abacus's (compose.ts).
  const label = positionalLabel(model.pos);
  const options = positionalOptions(model);
  const randomized = options.randomPositions !== null;
  if ((readsRoles(pe) || randomized) && !data.format.roles) {
    const declaring = FORMAT_NAMES.filter((name) => getFormat(name).roles);
    const what = readsRoles(pe) ? `model.pos "${label}"` : 'model.random_positions';
    fail(
      'format.name',
      `${what} needs the role of each token, and format "${format.name}" declares none; formats that do: ${declaring.join(', ')}`,
    );
  }
  if (readsRoles(pe)) {
    if (!answerRolesKnownInAdvance(format.name, task.op, data.formatOptions)) {
      const usable = FORMAT_NAMES.filter((name) => answerRolesKnownInAdvance(name, task.op, data.formatOptions));
      fail(
        'format.name',
        `model.pos "${label}" gives answer digits positions by significance, but format "${format.name}" writes answers ` +
          `whose digits' significance depends on the answer's own length (unknown while decoding); use a reversed or padded format: ${usable.join(', ')}`,
      );
    }
    const significance = (digits: number) => {
      const problem = longestProblem(task.op, digits);
      const roles = data.format.roles!(problem, data.formatOptions);
      return maxSignificance([...roles.prompt, ...roles.target]);
    };
    const rows = pe.tableRows?.(significance(task.train_digits[1]), significance(task.test_digits[1]), options);
    if (rows !== undefined && hasRoleTable(options) && options.maxPosition < rows) {
      fail(
        'model.max_position',
        `model.pos "${label}" needs ${rows} table rows for ${task.train_digits[1]}-digit training and ${task.test_digits[1]}-digit ` +
          `test problems (task.train_digits, task.test_digits${positionalNames(model.pos).includes('abacus') ? ', model.abacus_offset' : ''}); ` +
          `model.max_position is ${options.maxPosition}: set it to at least ${rows} or shorten task.test_digits`,
      );
    }
  }
  if (!options.roleTable && options.attentionIds !== 'roles') {
    fail(
      'model.role_table',
      `false drops the table of role ids, and with model.attention_ids "${options.attentionIds}" nothing else reads them; set model.attention_ids to roles (with t5 or rope in model.pos) or model.role_table to true`,
    );
  }
  if (options.attentionIds === 'roles') {
    // The attention side measures distances between role ids; a key's id can exceed the query's (the digit an
    // answer token adds next), so the scheme must tell later ids from earlier ones.
    const names = positionalNames(model.pos);
    if (!readsRoles(pe)) {
      fail(
        'model.attention_ids',
        `"roles" reads the ids of coupled or abacus, and model.pos "${label}" has neither; set model.attention_ids to sequence`,
      );
    }
    if (!names.includes('t5') && !names.includes('rope')) {
      fail(
        'model.attention_ids',
        `"roles" gives the attention side the role ids, and model.pos "${label}" has no attention-side scheme that reads signed distances; list t5 (with model.t5_bidirectional: true) or rope beside ${names[0]}`,
      );
    }
    if (names.includes('t5') && !options.t5Bidirectional) {
      fail(
        'model.t5_bidirectional',
        `with model.attention_ids "roles" a key can have a larger id than its query (the next digit), which unidirectional T5 buckets merge with distance 0; set model.t5_bidirectional to true`,
      );
    }
  }
  if (randomized) {
    const range = options.randomPositions!;
    if (readsRoles(pe)) {
      fail(
        'model.random_positions',
        `model.pos "${label}" takes its position ids from token roles; randomized positions cannot apply beside them (the attention side sees 0..n-1): set model.random_positions to null`,
      );
    }
    if (!pe.positionIndexed) {
      const indexed = POSITIONAL_NAMES.filter((name) => getPositionalEncoding(name).positionIndexed);
      fail(
        'model.random_positions',
        `randomized positions feed encodings that read positions (${indexed.join(', ')}); model.pos "${label}" reads none: set model.random_positions to null or choose one of those`,
      );
    }
    const testTokens = longestSequence(data, task.test_digits[1]);
    if (range < testTokens) {
      fail(
        'model.random_positions',
        `L = ${range} is below the ${testTokens} tokens of the longest test sequence (task.test_digits up to ${task.test_digits[1]} digits); set model.random_positions to at least ${testTokens}`,
      );
    }
    if (!pe.extrapolates && range > model.max_len) {
      fail(
        'model.max_len',
        `model.pos "${label}" draws positions from [0, model.random_positions = ${range}) but its table has model.max_len ${model.max_len} rows; raise max_len to ${range}`,
      );
    }
  }
}
