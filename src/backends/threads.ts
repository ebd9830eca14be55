/** ARITH_THREADS, the torch engine's thread count asked for by the environment, or null when unset or invalid. */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | null {
  const fromEnv = Number(env.ARITH_THREADS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : null;
}
