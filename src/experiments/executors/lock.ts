import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';

/**
 * A lock file that holds the pid of the process working in a folder. A lock whose process is gone (killed, or
 * the machine rebooted) is stale and taken over, so a crash never needs a manual clean-up.
 */

/** The pid in `file`, or null when there is none (no file, or not a pid). */
function holderOf(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Takes `file` for this process and returns the function that releases it. `holderName` names the kind of
 * process in the error a second one gets ("another reproduce (process 123) is working here").
 */
export function acquireLock(file: string, holderName: string): () => void {
  const holder = holderOf(file);
  if (holder !== null && holder !== process.pid && isAlive(holder)) {
    throw new UserError(`another ${holderName} (process ${holder}) is working here; wait for it or stop it`, { file: path.dirname(file) });
  }
  fs.writeFileSync(file, String(process.pid));
  return () => fs.rmSync(file, { force: true });
}
