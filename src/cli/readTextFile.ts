import { readFileSync } from 'node:fs';
import { UsageError } from './UsageError.js';

/** A file named on the command line (`--header-file`); unreadable is a usage error that names it. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}
