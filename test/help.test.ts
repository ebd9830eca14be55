import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeConfigFields } from '../src/config/describe.ts';

describe('help', () => {
  it('train --help lists every config field with its default and meaning, generated from the schema', () => {
    const fields = describeConfigFields();
    for (const line of ['task.train_digits', 'format.pad_width', 'model.pos', 'train.checkpoint_every', 'train.loss_on']) {
      expect(fields).toContain(line);
    }
    expect(fields).toMatch(/model\.pos\s+nope \| ape \| sinusoidal \| rope \| alibi \(default "nope"\)/);
    expect(fields).toMatch(/train\.lr\s+number \(default 0\.001\)\n\s+AdamW peak learning rate/);
    const help = execFileSync('node', ['bin/arith-lab.js', 'train', '--help']).toString();
    expect(help).toContain('Config fields');
    expect(help).toContain('task.operand_lengths');
  });
});
