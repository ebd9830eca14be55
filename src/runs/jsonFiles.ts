import fs from 'node:fs';

/**
 * Writes a file through a temporary name and a rename, so readers never see half of it. A write that fails (a
 * full disk) removes its temporary file and leaves `file` as it was.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(temporary, data);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** Parses a JSON file; a missing or broken file throws. */
export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Parses a JSON file, or null when it is missing or broken (a result not written yet, or cut off by a kill). */
export function readJsonOrNull<T>(file: string): T | null {
  try {
    return readJson<T>(file);
  } catch {
    return null;
  }
}

/**
 * One JSON object per line. A run in progress may be caught mid-append, so an unreadable line is skipped and
 * counted rather than failing the reader.
 */
export function readJsonLines<T>(file: string): { records: T[]; skipped: number } {
  if (!fs.existsSync(file)) return { records: [], skipped: 0 };
  const records: T[] = [];
  let skipped = 0;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      skipped += 1;
    }
  }
  return { records, skipped };
}

export function appendJsonLine(file: string, record: object): void {
  try {
    fs.appendFileSync(file, JSON.stringify(record) + '\n');
  } catch (error) {
    // A failed write (a full disk) names no file; the message about it should.
    throw Object.assign(error as Error, { path: (error as { path?: string }).path ?? file });
  }
}

/**
 * Keeps the lines whose `step` is at most `step` and drops the rest (a resume recomputes them). A last line cut
 * off by a killed process is dropped too; the file is replaced atomically. A missing file stays missing.
 */
export function truncateJsonLines(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const kept: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let record: { step: number };
    try {
      record = JSON.parse(line) as { step: number };
    } catch {
      continue;
    }
    if (record.step <= step) kept.push(line);
  }
  writeFileAtomic(file, kept.map((line) => line + '\n').join(''));
}
