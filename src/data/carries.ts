/** Carry structure of a + b, column by column from the least significant digit. */
export interface CarryProfile {
  /** Number of columns that produce a carry. */
  count: number;
  /** Longest run of consecutive carrying columns. */
  longestChain: number;
}

export function carryProfile(a: bigint, b: bigint): CarryProfile {
  const x = a.toString();
  const y = b.toString();
  let carry = 0;
  let count = 0;
  let chain = 0;
  let longestChain = 0;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const dx = i < x.length ? x.charCodeAt(x.length - 1 - i) - 48 : 0;
    const dy = i < y.length ? y.charCodeAt(y.length - 1 - i) - 48 : 0;
    carry = dx + dy + carry >= 10 ? 1 : 0;
    count += carry;
    chain = carry ? chain + 1 : 0;
    longestChain = Math.max(longestChain, chain);
  }
  return { count, longestChain };
}
