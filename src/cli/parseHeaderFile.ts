import { UsageError } from './UsageError.js';

/** One header line of a `--header-file`, with where it came from (for messages without its value). */
export interface HeaderLine {
  text: string;
  where: string;
}

/**
 * The headers of a `--header-file`, in mcp-remote's format: one `Name: value` (or `Name:value`)
 * per line; blank lines and lines starting with `#` are skipped. mcp-remote skips a malformed line
 * with a warning; mcp-tether refuses it, since a silently dropped credential shows up later as a
 * puzzling 401. Each line then goes through parseHeader like a `--header`. Pure.
 */
export function parseHeaderFile(text: string, path: string): HeaderLine[] {
  const lines: HeaderLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `line ${index + 1} of --header-file ${path}`;
    if (!line.includes(':')) throw new UsageError(`${where} is not a "Name: value" header`);
    lines.push({ text: line, where });
  });
  return lines;
}
