/** A problem with the command line or its environment: printed as one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
