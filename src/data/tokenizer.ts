/**
 * Character-level tokenizer with a few multi-character symbols (index hints such as `h12`).
 * Ids 0..2 are reserved: padding, beginning of sequence, end of answer. The vocabulary is built from the
 * format's own symbols, so a run's vocabulary is as small as its format allows (Qiu'24 used 12 tokens).
 */
export const PAD = '<pad>';
export const BOS = '<bos>';
export const EOS = '<eos>';
export const SPECIAL_TOKENS = [PAD, BOS, EOS] as const;
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;

export class Tokenizer {
  readonly tokens: readonly string[];
  private readonly idOf: Map<string, number>;
  /** Multi-character symbols, longest first, for greedy longest match. */
  private readonly multiChar: string[];

  constructor(symbols: readonly string[]) {
    const unique = [...new Set(symbols)].filter((s) => !SPECIAL_TOKENS.includes(s as never));
    this.tokens = [...SPECIAL_TOKENS, ...unique];
    this.idOf = new Map(this.tokens.map((token, id) => [token, id]));
    this.multiChar = unique.filter((s) => s.length > 1).sort((x, y) => y.length - x.length);
  }

  get size(): number {
    return this.tokens.length;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let i = 0;
    outer: while (i < text.length) {
      for (const symbol of this.multiChar) {
        if (text.startsWith(symbol, i)) {
          ids.push(this.idOf.get(symbol)!);
          i += symbol.length;
          continue outer;
        }
      }
      const id = this.idOf.get(text[i]);
      if (id === undefined) {
        throw new Error(`character ${JSON.stringify(text[i])} at offset ${i} of ${JSON.stringify(text)} is not in the vocabulary`);
      }
      ids.push(id);
      i += 1;
    }
    return ids;
  }

  /** Decodes ids back to text, stopping at the first `<eos>`; padding and `<bos>` are dropped. */
  decode(ids: readonly number[]): string {
    let text = '';
    for (const id of ids) {
      if (id === EOS_ID) break;
      if (id === PAD_ID || id === BOS_ID) continue;
      text += this.tokens[id] ?? '';
    }
    return text;
  }
}
