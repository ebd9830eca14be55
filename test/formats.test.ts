import { describe, expect, it } from 'vitest';
import { FORMATS, FORMAT_NAMES, getFormat } from '../src/data/formats/index.ts';
import type { FormatOptions } from '../src/data/formats/format.ts';
import { answerOf } from '../src/data/problem.ts';
import type { Op, Problem } from '../src/data/problem.ts';

const options: FormatOptions = { padWidth: 3, maxDigits: 12 };
const add = (a: number, b: number): Problem => ({ op: 'add', a: BigInt(a), b: BigInt(b) });
const encode = (name: string, problem: Problem, formatOptions = options) => getFormat(name).encode(problem, formatOptions);

describe('literal strings for 128+367 (docs/formats.md)', () => {
  const cases: [string, string, string][] = [
    ['plain', '128+367=', '495\n'],
    ['plain-delimited', '$128+367=', '495$\n'],
    ['reversed', '$128+367=', '594$\n'],
    ['reversed-all', '$821+763=', '594$\n'],
    ['zero-padded', '128+367=', '0495\n'],
    ['reversed-padded', '128+367=', '5940\n'],
    ['index-hints', 'h0 0 h1 1 h2 2 h3 8 + h0 0 h1 3 h2 6 h3 7 =', ' h3 5 h2 9 h1 4 h0 0\n'],
  ];
  for (const [name, prompt, target] of cases) {
    it(name, () => expect(encode(name, add(128, 367))).toEqual({ prompt, target }));
  }

  it('scratchpad-simple', () => {
    const { prompt, target } = encode('scratchpad-simple', add(128, 367));
    expect(prompt).toBe('Input:\n128+367\nTarget:\n');
    expect(prompt + target).toBe(`Input:
128+367
Target:
A->5 , C->1
A->9 , C->0
A->4 , C->0.
495
`);
  });

  it('scratchpad-detailed', () => {
    const { prompt, target } = encode('scratchpad-detailed', add(128, 367));
    expect(prompt).toBe('Input:\n128+367\nTarget:\n');
    expect(prompt + target).toBe(`Input:
128+367
Target:
<scratch>
[1,2,8] has 3 digits.
[3,6,7] has 3 digits.
[1,2,8] + [3,6,7] , A=[] , C=0 , 8+7+0=15 , A->5 , C->1
[1,2] + [3,6] , A=[5] , C=1 , 2+6+1=9 , A->9 , C->0
[1] + [3] , A=[9,5] , C=0 , 1+3+0=4 , A->4 , C->0
[] + [] , A=[4,9,5] C=0 , END
</scratch>
4 9 5
`);
  });
});

describe("rules beyond the example (Lee's generated files)", () => {
  it('reversal keeps zeros: 999+1', () => {
    expect(encode('reversed', add(999, 1))).toEqual({ prompt: '$999+1=', target: '0001$\n' });
  });

  it('reversed-all reverses each operand on its own, zeros kept: 1200+35, 999*1', () => {
    expect(encode('reversed-all', add(1200, 35))).toEqual({ prompt: '$0021+53=', target: '5321$\n' });
    expect(encode('reversed-all', { op: 'mul', a: 999n, b: 1n })).toEqual({ prompt: '$999*1=', target: '999$\n' });
  });

  it('zero-padded widths are minimums: 12+345 → 012+345=0357', () => {
    const { prompt, target } = encode('zero-padded', add(12, 345));
    expect(prompt + target).toBe('012+345=0357\n');
    expect(Object.values(encode('zero-padded', add(12345, 6)))).toEqual(['12345+006=', '12351\n']);
    const product = encode('zero-padded', { op: 'mul', a: 12n, b: 34n });
    expect(product.prompt + product.target).toBe('012*034=000408\n');
  });

  it('detailed, unequal lengths: 12+345', () => {
    const { target } = encode('scratchpad-detailed', add(12, 345));
    expect(target).toBe(`<scratch>
[1,2] has 2 digits.
[3,4,5] has 3 digits.
[1,2] + [3,4,5] , A=[] , C=0 , 2+5+0=7 , A->7 , C->0
[1] + [3,4] , A=[7] , C=0 , 1+4+0=5 , A->5 , C->0
[] + [3] , A=[5,7] , C=0 , 0+3+0=3 , A->3 , C->0
[] + [] , A=[3,5,7] C=0 , END
</scratch>
3 5 7
`);
  });

  it('detailed, final carry only in the answer, "1 digits": 999+1', () => {
    const { target } = encode('scratchpad-detailed', add(999, 1));
    expect(target).toContain('[1] has 1 digits.\n');
    expect(target.endsWith('[] + [] , A=[0,0,0] C=1 , END\n</scratch>\n1 0 0 0\n')).toBe(true);
  });

  it('simplified: one line per digit of the longer operand: 999+1 and 12+345', () => {
    expect(encode('scratchpad-simple', add(999, 1)).target).toBe('A->0 , C->1\nA->0 , C->1\nA->0 , C->1.\n1000\n');
    expect(encode('scratchpad-simple', add(12, 345)).target).toBe('A->7 , C->0\nA->5 , C->0\nA->3 , C->0.\n357\n');
  });
});

describe('other paper examples', () => {
  it("index hints, Zhou'23: 88+842", () => {
    const { prompt, target } = encode('index-hints', add(88, 842));
    expect(prompt).toBe('h0 0 h1 0 h2 8 h3 8 + h0 0 h1 8 h2 4 h3 2 =');
    expect(target).toBe(' h3 0 h2 3 h1 9 h0 0\n');
    expect(getFormat('index-hints').parse(target, options)).toEqual({ ok: true, answer: 930n });
  });

  it('reversed-padded beyond pad_width: both operands pad to the longer, the answer to its widest', () => {
    const options = { padWidth: 3, maxDigits: 3 };
    expect(encode('reversed-padded', add(12345, 6), options)).toEqual({ prompt: '12345+00006=', target: '153210\n' });
    expect(encode('reversed-padded', add(4321, 1234), options)).toEqual({ prompt: '4321+1234=', target: '55550\n' });
    expect(encode('reversed-padded', { op: 'mul', a: 1234n, b: 5n }, options)).toEqual({ prompt: '1234*0005=', target: '07160000\n' });
  });

  it('reversed-padded with pad_extra: one more leading zero, which then holds the final carry', () => {
    const options = { padWidth: 3, maxDigits: 3, padExtra: 1 };
    expect(encode('reversed-padded', add(12, 345), options)).toEqual({ prompt: '0012+0345=', target: '7530\n' });
    expect(encode('reversed-padded', add(999, 1), options)).toEqual({ prompt: '0999+0001=', target: '0001\n' });
    expect(encode('reversed-padded', add(12345, 6), options)).toEqual({ prompt: '012345+000006=', target: '153210\n' });
  });

  it("reversed-padded, Qiu'24: 12345*678 at width 5", () => {
    const example = encode('reversed-padded', { op: 'mul', a: 12345n, b: 678n }, { padWidth: 5, maxDigits: 5 });
    expect(example).toEqual({ prompt: '12345*00678=', target: '0199638000\n' });
  });
});

describe('parse', () => {
  it('ignores text after the first complete answer', () => {
    expect(getFormat('plain').parse('495\n12+3=15\n', options)).toEqual({ ok: true, answer: 495n });
    expect(getFormat('reversed').parse('594$\n$1+1=2$', options)).toEqual({ ok: true, answer: 495n });
    expect(getFormat('plain').parse('495', options)).toEqual({ ok: true, answer: 495n });
  });

  const truncated: Record<string, string> = {
    'scratchpad-simple': 'A->5 , C->1\nA->9 , C->0\nA->4 , C->0.\n',
    'scratchpad-detailed': '<scratch>\n[1,2,8] has 3 digits.\n[3,6,7] has 3 digits.\n[1,2,8] + [3,6,7] , A=[]',
    reversed: '594',
    'plain-delimited': '495',
    'index-hints': ' h3 5 h2 9 h1',
  };
  for (const name of FORMAT_NAMES) {
    it(`${name} rejects garbage`, () => {
      const format = getFormat(name);
      for (const garbage of ['', 'abc', '\n', ' ', truncated[name] ?? '4x5\n']) {
        const result = format.parse(garbage, options);
        expect(result.ok, JSON.stringify(garbage)).toBe(false);
        if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
      }
    });
  }

  it('index-hints rejects hints out of order', () => {
    expect(getFormat('index-hints').parse(' h2 5 h0 9 h1 4\n', options).ok).toBe(false);
  });

  it('detailed rejects an answer line without spaces', () => {
    expect(getFormat('scratchpad-detailed').parse('</scratch>\n495\n', options).ok).toBe(false);
  });
});

describe('registry', () => {
  it('lists the formats by name and rejects unknown names with the valid ones', () => {
    expect(FORMAT_NAMES).toEqual([
      'plain',
      'plain-delimited',
      'reversed',
      'zero-padded',
      'scratchpad-simple',
      'scratchpad-detailed',
      'index-hints',
      'reversed-padded',
      'index-hints-window',
      'cot-multiplication',
      'reversed-all',
    ]);
    for (const name of FORMAT_NAMES) expect(FORMATS[name].name).toBe(name);
    expect(() => getFormat('nope')).toThrow(/plain, plain-delimited/);
    expect(() => getFormat('toString')).toThrow(/unknown format/);
  });

  it('encode refuses ops a format cannot express', () => {
    expect(() => encode('scratchpad-simple', { op: 'mul', a: 1n, b: 2n })).toThrow(/add/);
  });
});

/** mulberry32: a tiny seeded generator so the property test is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomOperand(random: () => number): bigint {
  const digitCount = 1 + Math.floor(random() * 12);
  let text = '';
  for (let i = 0; i < digitCount; i++) text += Math.floor(random() * 10).toString();
  return BigInt(text);
}

/** Longest-first matching, as the tokenizer does; null when some text is not in the vocabulary. */
function tokenize(text: string, vocabulary: readonly string[]): string[] | null {
  const symbols = [...vocabulary].sort((x, y) => y.length - x.length);
  const tokens: string[] = [];
  for (let at = 0; at < text.length; ) {
    const symbol = symbols.find((candidate) => text.startsWith(candidate, at));
    if (!symbol) return null;
    tokens.push(symbol);
    at += symbol.length;
  }
  return tokens;
}

describe('round trip on random problems', () => {
  for (const name of FORMAT_NAMES) {
    const format = getFormat(name);
    for (const op of format.ops) {
      it(`${name} ${op}: parse(target) is the answer and every token is in the vocabulary`, () => {
        const random = seededRandom(FORMAT_NAMES.indexOf(name) * 10 + format.ops.indexOf(op) + 1);
        const vocabulary = format.vocabulary(options);
        expect(new Set(vocabulary).size).toBe(vocabulary.length);
        expect(vocabulary).toContain('\n');
        expect(format.vocabulary(options)).toEqual(vocabulary);
        for (let trial = 0; trial < 300; trial++) {
          const problem: Problem = { op: op as Op, a: randomOperand(random), b: randomOperand(random) };
          if (trial === 0) problem.a = 0n;
          const { prompt, target } = format.encode(problem, options);
          expect(target.endsWith('\n')).toBe(true);
          expect(format.parse(target, options)).toEqual({ ok: true, answer: answerOf(problem) });
          expect(format.parse(target.slice(0, -1), options)).toEqual({ ok: true, answer: answerOf(problem) });
          expect(tokenize(prompt + target, vocabulary), prompt + target).not.toBeNull();
        }
      });
    }
  }
});

describe('index-hints-window (Zhou et al.: hints are a consecutive window of a larger ordered set)', () => {
  const format = getFormat('index-hints-window');
  it('literal strings: one letter per hint, no separators, the answer walks the window down', () => {
    expect(format.encode(add(128, 367), options)).toEqual({ prompt: 'V0W1X2Y8+V0W3X6Y7=', target: 'Y5X9W4V0\n' });
    expect(format.encode(add(88, 842), options)).toEqual({ prompt: 'u0v0w8x8+u0v8w4x2=', target: 'x0w3v9u0\n' });
    expect(format.parse('Y5X9W4V0\n', options)).toEqual({ ok: true, answer: 495n });
    expect(format.parse('Y5W9X4V0\n', options).ok).toBe(false);
  });

  it('windows start all over the set, so every symbol is trained on short numbers and long ones reuse them', () => {
    const firstSymbols = new Set<string>();
    const lastSymbols = new Set<string>();
    for (let a = 10; a < 400; a++) {
      const { prompt } = format.encode(add(a, 7 * a + 3), options);
      firstSymbols.add(prompt[0]);
      lastSymbols.add(prompt[prompt.indexOf('+') - 2]);
    }
    expect(firstSymbols.size).toBeGreaterThan(40);
    expect(lastSymbols).toContain('Z'); // the last symbol of the set is reached by 3- and 4-digit problems
    const long = format.encode({ op: 'add', a: 10n ** 39n, b: 1n }, options);
    expect(long.prompt.length).toBe(2 * (2 * 41) + 2);
    expect(() => format.encode({ op: 'add', a: 10n ** 52n, b: 1n }, options)).toThrow(/need 54 hint symbols; it has 52/);
  });
});
