import type { TokenKind, TokenRole } from '../../contracts/tokenRoles.ts';

/**
 * Builders for a format's token roles (format.ts, `roles`). Each returns one role per token the tokenizer makes
 * of the text it describes, so a format writes its roles piece by piece in the order it writes its string.
 */

/** Digits of one number written most significant first (`128`: k = 2, 1, 0); padding zeros included. */
export function digitsMsbFirst(kind: 'a' | 'b' | 'answer', digits: string): TokenRole[] {
  return [...digits].map((_, i) => ({ kind, significance: digits.length - 1 - i }));
}

/** Digits written least significant first, as reversed answers are (`594` for 495: k = 0, 1, 2). */
export function digitsLsbFirst(kind: 'a' | 'b' | 'answer', digits: string): TokenRole[] {
  return [...digits].map((_, i) => ({ kind, significance: i }));
}

/** One role per character of single-character tokens that carry no significance (`+`, `=`, `$`, words). */
export function symbols(kind: Exclude<TokenKind, 'a' | 'b' | 'answer' | 'hint'>, text: string): TokenRole[] {
  return [...text].map(() => ({ kind, significance: null }));
}

/** A hint token naming the position of the digit of significance k. */
export function hintRole(significance: number): TokenRole {
  return { kind: 'hint', significance };
}

/**
 * The prompt `<open>a<op>b<close>` most formats share: both operands most significant digit first (as given,
 * padding included) with the one-token operator between them.
 */
export function operandsPrompt(a: string, b: string, open: TokenRole[], close: TokenRole[]): TokenRole[] {
  return [...open, ...digitsMsbFirst('a', a), ...symbols('operator', '+'), ...digitsMsbFirst('b', b), ...close];
}
