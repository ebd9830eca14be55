import seedrandom from 'seedrandom';

/** A seeded random stream. Every random choice in the lab goes through one of these, named by purpose. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Generator state, to resume the stream exactly. */
  state(): object;
}

/**
 * Streams are derived from the run seed and a purpose label ("train-data", "init", ...), so adding a random
 * draw for one purpose never shifts another's sequence.
 */
export function createRandom(seed: number, purpose: string, state?: object): Random {
  const rng = seedrandom.alea(`${seed}:${purpose}`, (state ? { state } : { state: true }) as { state: true });
  let spareNormal: number | null = null;
  return {
    next: () => rng.quick(),
    int: (lo, hi) => lo + Math.floor(rng.quick() * (hi - lo + 1)),
    normal() {
      if (spareNormal !== null) {
        const value = spareNormal;
        spareNormal = null;
        return value;
      }
      const u = 1 - rng.quick();
      const v = rng.quick();
      const radius = Math.sqrt(-2 * Math.log(u));
      spareNormal = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
    state: () => rng.state(),
  };
}

/** Uniform BigInt in [lo, hi] inclusive, exact for any number of digits (draws 15 decimal digits at a time). */
export function randomBigInt(random: Random, lo: bigint, hi: bigint): bigint {
  const span = hi - lo + 1n;
  if (span <= BigInt(Number.MAX_SAFE_INTEGER)) return lo + BigInt(Math.floor(random.next() * Number(span)));
  const chunk = 10n ** 15n;
  // Draw more digits than the span needs, then reduce: the bias is below 1e-15 relative.
  let value = 0n;
  let scale = 1n;
  while (scale < span * chunk) {
    value = value * chunk + BigInt(Math.floor(random.next() * 1e15));
    scale *= chunk;
  }
  return lo + (value % span);
}
