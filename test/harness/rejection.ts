import { expect } from 'vitest';

/** The error `run` rejects with; the test fails if it resolves or rejects with something else. */
export async function rejection(run: () => Promise<unknown>): Promise<Error> {
  const error = await run().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}
