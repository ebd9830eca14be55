// What each token of an example is, as formats declare it (src/data/formats/format.ts, `roles`) and
// positional encodings read it (position coupling, Abacus): a type both layers share.

/**
 * What a token is: an operand digit (`a`, `b`), an answer digit, an index hint, an operator (`+`, `*`, `=`), a
 * separator (`$`, spaces, newlines), other text (scratchpad wording), or a special token (`<bos>`, `<eos>`,
 * padding; added by the tokenizer side, never by a format).
 */
export type TokenKind = 'a' | 'b' | 'answer' | 'hint' | 'operator' | 'separator' | 'text' | 'special';

export interface TokenRole {
  kind: TokenKind;
  /**
   * For a, b and answer digits: the digit's significance (0 = units), counted on the number as written, padding
   * zeros included. For a hint: the significance of the digit it labels. Otherwise null.
   */
  significance: number | null;
}
