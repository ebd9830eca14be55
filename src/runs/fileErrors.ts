/**
 * File-system failures a user can act on (a full disk, a read-only or special folder, a name too long), told
 * apart from bugs: these become one line naming the path, never a stack trace.
 */

const PROBLEMS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'it exists and is not a directory',
  ENAMETOOLONG: 'a name in the path is longer than the file system allows (255 bytes)',
  // Where the parent exists: a special file system (/proc, /sys) that does not take new entries.
  ENOENT: 'no such file or directory, and it cannot be created there',
  ELOOP: 'too many symbolic links in the path',
  EIO: 'input/output error from the disk',
  EMFILE: 'too many open files',
};

/** The error's code (`ENOSPC`), if it is a system error. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isDiskFull(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** What went wrong, in words with the code (`the disk is full (ENOSPC)`); null for an error that is not one of these. */
export function describeFileError(error: unknown): string | null {
  const code = errorCode(error);
  return code !== undefined && code in PROBLEMS ? `${PROBLEMS[code]} (${code})` : null;
}
