import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Write `data` to `path` so that a reader sees the old file or the new one, never half of one,
 * making its folder if missing. The temporary file sits beside the target (a rename is atomic
 * only within one file system) and is removed whenever the write fails.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Why `path` cannot take a new file the user asked for, in plain words (the path on a line of its
 * own, to fit 80 columns), or undefined when it can as far as can be told before writing. Missing
 * folders are made by the write; permissions are only known for sure by trying
 * (`outputWriteProblem` words that failure).
 */
export function outputPathProblem(path: string): string | undefined {
  const kind = (p: string): 'dir' | 'file' | 'missing' => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'missing';
    }
  };
  if (kind(path) === 'dir') return `is a directory, not a file:\n  ${path}`;
  // The nearest folder on the way up that exists must be a folder, not a file.
  for (let p = dirname(path); ; p = dirname(p)) {
    const k = kind(p);
    if (k === 'file') return `is a file, not a folder:\n  ${p}`;
    if (k === 'dir' || dirname(p) === p) return undefined;
  }
}

/** The words for a failed write of a file the user named, or undefined for a failure not theirs. */
export function outputWriteProblem(path: string, e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `no permission to write (${code}):\n  ${path}`;
    case 'EROFS':
      return `on a read-only file system (EROFS):\n  ${path}`;
    case 'EISDIR':
    case 'ENOENT':
    case 'ENOTDIR':
      return outputPathProblem(path) ?? `cannot write (${code}):\n  ${path}`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the device (${code}):\n  ${path}`;
    default:
      return undefined;
  }
}

/** Remove a file; a file already gone is fine. */
export function removeFile(path: string): void {
  rmSync(path, { force: true });
}
