import { describe, expect, it } from 'vitest';
import { encodeBatch, sequenceRoles } from '../src/data/batches.ts';
import type { FormatOptions } from '../src/data/formats/format.ts';
import type { TokenRole } from '../src/contracts/tokenRoles.ts';
import { FORMAT_NAMES, getFormat } from '../src/data/formats/index.ts';
import { answerOf, type Problem } from '../src/data/problem.ts';
import { Tokenizer } from '../src/data/tokenizer.ts';
import { createRandom, randomBigInt } from '../src/random.ts';

const options: FormatOptions = { padWidth: 3, maxDigits: 12 };
const add = (a: number, b: number): Problem => ({ op: 'add', a: BigInt(a), b: BigInt(b) });

/** Short codes: `a2` operand a digit of significance 2, `=2` answer digit 2, `h1` a hint, `+` operator, `_` separator, `t` text. */
function code(role: TokenRole): string {
  const k = role.significance;
  return { a: `a${k}`, b: `b${k}`, answer: `=${k}`, hint: `h${k}`, operator: '+', separator: '_', text: 't', special: 'S' }[role.kind];
}
const codes = (roles: TokenRole[]) => roles.map(code).join(' ');
const rolesOf = (name: string, problem: Problem) => {
  const roles = getFormat(name).roles!(problem, options);
  return { prompt: codes(roles.prompt), target: codes(roles.target) };
};

describe('token roles of 128+367 (every format declares them)', () => {
  const cases: [string, string, string][] = [
    ['plain', 'a2 a1 a0 + b2 b1 b0 +', '=2 =1 =0 _'],
    ['plain-delimited', '_ a2 a1 a0 + b2 b1 b0 +', '=2 =1 =0 _ _'],
    ['reversed', '_ a2 a1 a0 + b2 b1 b0 +', '=0 =1 =2 _ _'],
    ['reversed-all', '_ a0 a1 a2 + b0 b1 b2 +', '=0 =1 =2 _ _'],
    ['zero-padded', 'a2 a1 a0 + b2 b1 b0 +', '=3 =2 =1 =0 _'],
    ['reversed-padded', 'a2 a1 a0 + b2 b1 b0 +', '=0 =1 =2 =3 _'],
    [
      'index-hints',
      'h3 _ a3 _ h2 _ a2 _ h1 _ a1 _ h0 _ a0 _ + _ h3 _ b3 _ h2 _ b2 _ h1 _ b1 _ h0 _ b0 _ +',
      '_ h0 _ =0 _ h1 _ =1 _ h2 _ =2 _ h3 _ =3 _',
    ],
    ['index-hints-window', 'h3 a3 h2 a2 h1 a1 h0 a0 + h3 b3 h2 b2 h1 b1 h0 b0 +', 'h0 =0 h1 =1 h2 =2 h3 =3 _'],
    ['scratchpad-simple', 't t t t t t t a2 a1 a0 + b2 b1 b0 t t t t t t t t t', `${'t '.repeat(37)}=2 =1 =0 _`],
  ];
  for (const [name, prompt, target] of cases) {
    it(name, () => expect(rolesOf(name, add(128, 367))).toEqual({ prompt, target }));
  }

  it('scratchpad-detailed: scratch work is text, the answer line is digits and spaces', () => {
    const { target } = rolesOf('scratchpad-detailed', add(128, 367));
    expect(target.endsWith('t =2 _ =1 _ =0 _')).toBe(true);
    expect(target.split(' ').filter((c) => c !== 't')).toEqual(['=2', '_', '=1', '_', '=0', '_']);
  });
});

/** Every format, many problems: one role per token, and every digit role sits on that number's digit of that significance. */
describe('roles agree with the tokens each format writes', () => {
  const random = createRandom(5, 'roles-test');
  const problems: Problem[] = [add(999, 1), add(5, 0), add(40, 7061), add(0, 0)];
  for (let i = 0; i < 40; i++) {
    problems.push({
      op: 'add',
      a: randomBigInt(random, 0n, 10n ** BigInt(random.int(1, 12)) - 1n),
      b: randomBigInt(random, 0n, 10n ** BigInt(random.int(1, 12)) - 1n),
    });
  }
  for (const name of FORMAT_NAMES) {
    it(name, () => {
      const format = getFormat(name);
      const tokenizer = new Tokenizer(format.vocabulary(options));
      for (const drawn of problems) {
        // Multiplication-only formats (cot-multiplication) get the same operands multiplied.
        const problem: Problem = format.ops.includes(drawn.op) ? drawn : { ...drawn, op: format.ops[0] };
        const example = format.encode(problem, options);
        const roles = sequenceRoles(example, format.roles!(problem, options), tokenizer);
        const tokens = ['<bos>', ...tokenizer.encode(example.prompt), ...tokenizer.encode(example.target), '<eos>'].map((id) =>
          typeof id === 'string' ? id : tokenizer.tokens[id],
        );
        expect(roles).toHaveLength(tokens.length);
        const values = { a: problem.a, b: problem.b, answer: answerOf(problem) };
        const seen = { a: 0, b: 0, answer: 0 };
        roles.forEach((role, i) => {
          if (role.kind !== 'a' && role.kind !== 'b' && role.kind !== 'answer') {
            expect(/^\d$/.test(tokens[i]) && role.kind !== 'text').toBe(false);
            return;
          }
          const digits = values[role.kind].toString();
          expect(tokens[i]).toBe(digits[digits.length - 1 - role.significance!] ?? '0');
          seen[role.kind] += 1;
        });
        // Every digit of each number has its role (padding may add more).
        for (const kind of ['a', 'b', 'answer'] as const) expect(seen[kind]).toBeGreaterThanOrEqual(values[kind].toString().length);
      }
    });
  }
});

describe('batches carry roles', () => {
  it('one role per input token, <bos> special, padding left out', () => {
    const format = getFormat('reversed');
    const tokenizer = new Tokenizer(format.vocabulary(options));
    const problems = [add(128, 367), add(5, 7)];
    const batch = encodeBatch(
      problems.map((p) => format.encode(p, options)),
      tokenizer,
      'answer',
      problems.map((p) => format.roles!(p, options)),
    );
    expect(batch.roles!.map(codes)).toEqual(['S _ a2 a1 a0 + b2 b1 b0 + =0 =1 =2 _ _', 'S _ a0 + b0 + =0 =1 _ _']);
    expect(batch.seqLen).toBe(15);
  });

  it('a format whose roles miscount its tokens is an error, not shifted positions', () => {
    const format = getFormat('plain');
    const tokenizer = new Tokenizer(format.vocabulary(options));
    const roles = format.roles!(add(12, 3), options);
    expect(() => sequenceRoles(format.encode(add(12, 3), options), { ...roles, target: roles.target.slice(1) }, tokenizer)).toThrow(
      /declares 2 roles for the 3 tokens of target/,
    );
  });
});
