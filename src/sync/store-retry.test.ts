import { expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { isTransientStoreError } from '../store/index.ts';
import { withStoreRetries } from './store-retry.ts';

it('finding 8: a store write that meets a busy or lost database is tried again, and a lasting failure is given back', async () => {
  let calls = 0;
  const flaky = () => {
    calls += 1;
    if (calls < 3) return Promise.reject(new AppError('database_unavailable', 'the database is busy'));
    return Promise.resolve('saved');
  };
  expect(await withStoreRetries(flaky)).toBe('saved');
  expect(calls).toBe(3);

  let refused = 0;
  await expect(
    withStoreRetries(() => {
      refused += 1;
      return Promise.reject(new AppError('conflict', 'taken over'));
    }),
  ).rejects.toMatchObject({ code: 'conflict' });
  expect(refused).toBe(1);
});

it('finding 8: PostgreSQL connection loss (57P01 admin shutdown, class 08, a dropped socket) is transient; a bad query is not', () => {
  for (const code of ['57P01', '57P02', '57P03', '08006', '08003', 'ECONNRESET', 'ECONNREFUSED', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT']) {
    expect(isTransientStoreError(Object.assign(new Error('lost'), { code })), code).toBe(true);
  }
  expect(isTransientStoreError(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isTransientStoreError(Object.assign(new Error('syntax'), { code: '42601' }))).toBe(false);
});
