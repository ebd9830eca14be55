import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeConfigFields } from '../src/config/describe.ts';
import { POSITIONAL_NAMES } from '../src/models/positional/index.ts';

describe('help', () => {
  it('train --help lists every config field with its default and meaning, generated from the schema', () => {
    const fields = describeConfigFields();
    for (const line of ['task.train_digits', 'format.pad_width', 'model.pos', 'train.checkpoint_every', 'train.loss_on']) {
      expect(fields).toContain(line);
    }
    expect(fields).toMatch(new RegExp(`model\\.pos\\s+${POSITIONAL_NAMES.join(' \\| ')} \\(default "nope"\\)`));
    expect(POSITIONAL_NAMES).toEqual(expect.arrayContaining(['nope', 'ape', 'sinusoidal', 'rope', 'alibi']));
    expect(fields).toMatch(/train\.lr\s+number \(default 0\.001\)\n\s+AdamW peak learning rate/);
    // A positional encoding's options, declared in its own file, are model fields like any other.
    expect(fields).toMatch(/model\.rope_fraction\s+number \(default 1\)\n\s+fraction of each head RoPE rotates/);
    const help = execFileSync('node', ['bin/arith-lab.js', 'train', '--help']).toString();
    expect(help).toContain('Config fields');
    expect(help).toContain('task.operand_lengths');
  });
});
