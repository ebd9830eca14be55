import { UserError } from '../errors.ts';

export const MATMUL_PRECISIONS = ['highest', 'high', 'medium'] as const;
export type MatmulPrecision = (typeof MATMUL_PRECISIONS)[number];

/**
 * ARITH_MATMUL_PRECISION, the torch engine's float32 matmul precision (as torch.set_float32_matmul_precision):
 * `highest` (the default: float32 throughout), `high` (TF32 tensor cores for float32 products on a GPU; about
 * 3 decimal digits per product, much faster on large models) or `medium` (bfloat16 where available). Anything
 * else is a user error naming the variable.
 */
export function matmulPrecisionFromEnv(env: NodeJS.ProcessEnv = process.env): MatmulPrecision {
  const value = env.ARITH_MATMUL_PRECISION;
  if (value === undefined || value === '') return 'highest';
  if ((MATMUL_PRECISIONS as readonly string[]).includes(value)) return value as MatmulPrecision;
  throw new UserError(`ARITH_MATMUL_PRECISION must be one of ${MATMUL_PRECISIONS.join(', ')}, not "${value}"`, {
    field: 'ARITH_MATMUL_PRECISION',
  });
}
