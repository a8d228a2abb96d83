/** A mistake in the command line or a refusal to run as asked: nothing was done, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
