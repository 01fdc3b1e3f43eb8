import type { Command } from 'commander';

/** One option as given: a switch, or an option and its value. */
export interface GivenFlag {
  flag: string;
  value?: string;
}

/**
 * The options the user gave `cmd` on its command line, as arguments again (`--flag value`, a
 * repeatable one once per value, `--no-oauth` for a negated one), in the order the command
 * defines them: what `config` writes into the entry, so that every option of the bridge
 * carries over. Defaults are left out; so are the names in `skip`.
 */
export function givenFlags(cmd: Command, skip: ReadonlySet<string>): GivenFlag[] {
  const out: GivenFlag[] = [];
  for (const opt of cmd.options) {
    const flag = opt.long;
    if (!flag || skip.has(flag)) continue;
    const key = opt.attributeName();
    if (cmd.getOptionValueSource(key) !== 'cli') continue;
    const value: unknown = cmd.getOptionValue(key);
    if (opt.negate) {
      if (value === false) out.push({ flag });
    } else if (!opt.required && !opt.optional) {
      if (value === true) out.push({ flag });
    } else {
      for (const v of Array.isArray(value) ? value : [value]) out.push({ flag, value: String(v) });
    }
  }
  return out;
}
