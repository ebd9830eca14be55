import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';

/**
 * A lock file that holds the pid of the process working in a folder (a run directory, a reproduction), and what
 * that process is ("123 train"). It is created atomically, so of two processes started together exactly one gets
 * it. A lock whose process is gone (killed, or the machine rebooted) is stale and taken over, so a crash never
 * needs a manual clean-up. The holder removes it when it ends, also on an uncaught error.
 */

/** The lock files this process holds (resolved paths). */
const held = new Set<string>();

interface Holder {
  pid: number;
  what: string;
}

/** The holder named in `file`, or null when there is none (no file, or not a lock). */
function holderOf(file: string): Holder | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const [pidText = '', ...what] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  return Number.isInteger(pid) && pid > 0 ? { pid, what: what.join(' ') } : null;
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

/** Creates `file` holding `text`, failing with EEXIST when it exists: a link of a finished file is atomic. */
function createExclusive(file: string, text: string): void {
  const temporary = `${file}.new-${process.pid}`;
  fs.writeFileSync(temporary, text);
  try {
    fs.linkSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * Removes a stale lock, unless another process replaced it in the meantime: it is moved to a private name first
 * (atomic), and put back if it turns out to be a live one.
 */
function removeStale(file: string, stale: Holder | null): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // gone already: someone else took it over
  }
  const moved = holderOf(aside);
  if (moved && stale && moved.pid !== stale.pid && isAlive(moved.pid)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third process holds it now; the retry names whoever that is.
    }
  }
  fs.rmSync(aside, { force: true });
}

/**
 * Takes `file` for this process and returns the function that releases it. `holderName` names the kind of
 * process in the error a second one gets ("another reproduce (process 123) is working here").
 */
export function acquireLock(file: string, holderName: string): () => void {
  const key = path.resolve(file);
  if (held.has(key)) throw new UserError(`this process is working here already (${holderName})`, { file: path.dirname(file) });
  for (let attempt = 0; ; attempt++) {
    try {
      createExclusive(file, `${process.pid} ${holderName}\n`);
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST' || attempt >= 5) throw error;
    }
    const holder = holderOf(file);
    // Our own pid in a lock this process never took: left by an earlier process that had the same pid (a restart).
    if (holder !== null && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new UserError(
        `another ${holder.what || holderName} (process ${holder.pid}) is working here; wait for it or stop it ` +
          `(if no such process is yours, remove ${file})`,
        { file: path.dirname(file) },
      );
    }
    removeStale(file, holder);
  }
  held.add(key);
  const release = () => {
    // Only our own lock: a release after a takeover must not remove the new holder's.
    if (held.delete(key) && holderOf(file)?.pid === process.pid) fs.rmSync(file, { force: true });
    process.off('exit', release);
  };
  process.on('exit', release);
  return release;
}
