import { attentionProbe } from './attention.ts';
import { carriesProbe } from './carries.ts';
import { digitsProbe } from './digits.ts';
import { errorsProbe } from './errors.ts';
import { lengthProbe } from './length.ts';
import { linearProbe } from './linear.ts';
import type { Probe } from './probe.ts';
import { readoutProbe } from './readout.ts';

/**
 * Every probe by name, in the order `arith-lab probe` runs them. A new probe is one file and one entry here.
 * Order matters only for speed: digits and errors reuse the length grid's decoded problems.
 */
export const PROBES: Record<string, Probe> = Object.fromEntries(
  [lengthProbe, digitsProbe, carriesProbe, errorsProbe, attentionProbe, linearProbe, readoutProbe].map((probe) => [
    probe.name,
    probe as Probe,
  ]),
);

export const PROBE_NAMES: readonly string[] = Object.keys(PROBES);

export function getProbe(name: string): Probe {
  const probe = Object.hasOwn(PROBES, name) ? PROBES[name] : undefined;
  if (!probe) throw new Error(`unknown probe '${name}'; valid probes: ${PROBE_NAMES.join(', ')}`);
  return probe;
}
