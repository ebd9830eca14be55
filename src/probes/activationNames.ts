/** Readable names of captured activations, for tables and the report (no imports: the report loads it without tfjs). */

/** `blocks.1.resid_post` → `after block 2`; `embed` stays. */
export const activationLabel = (name: string): string => {
  const block = /^blocks\.(\d+)\.resid_post$/.exec(name);
  return block ? `after block ${Number(block[1]) + 1}` : name;
};
