import { join } from 'node:path';

/** Where one server's sign-in is kept: `<home>/auth/<key>/` (see TokenStore). */
export function tokenStoreDir(home: string, key: string): string {
  return join(home, 'auth', key);
}
