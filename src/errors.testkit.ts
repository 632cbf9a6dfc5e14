/** Test support: what a promise rejected with, checked to be an AppError of `code` (and `message`, when given). */
import { expect } from 'vitest';
import { AppError } from './errors.ts';

export async function expectAppError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  if (message) expect((err as AppError).message).toMatch(message);
  return err as AppError;
}
