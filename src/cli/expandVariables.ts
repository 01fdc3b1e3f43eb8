import { UsageError } from './UsageError.js';

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces every `${VAR}` in `text` with its value from `env`. Each value used is returned so the
 * caller can keep it out of logs. An unset variable is an error that names it and where it was
 * used, because silently sending "Bearer " to a server is a worse failure.
 */
export function expandVariables(text: string, env: NodeJS.ProcessEnv, where: string): { value: string; used: string[] } {
  const used: string[] = [];
  const value = text.replace(VARIABLE, (_, name: string) => {
    const v = env[name];
    if (v === undefined) {
      throw new UsageError(`environment variable ${name} is not set (used in ${where}); set it in the "env" block of your client config`);
    }
    used.push(v);
    return v;
  });
  return { value, used };
}
