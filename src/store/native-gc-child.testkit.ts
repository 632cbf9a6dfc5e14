/**
 * Run by native-gc.test.ts as `node --expose-gc --import tsx native-gc-child.testkit.ts`: churns through 20,000 better-sqlite3
 * statements and lets the garbage collector finalise them while the event loop is idle, outside any JS call.
 * better-sqlite3 before 13 aborted there on Node 24.19+ (`Assertion failed: (env) != nullptr` in
 * RemoveEnvironmentCleanupHook from Statement::~Statement()), killing the process with SIGABRT.
 *
 * What matters is *how* the statements are collected. A forced `gc()` from JS runs their finalisers at once, inside
 * the calling JS context, which never crashed. A GC that V8 starts by itself (allocation pressure) runs them later, as
 * a task on the idle event loop with no JS context entered: that is the path that aborted (checked against
 * better-sqlite3 12.6.2 on Node 24.21.0). So each round drops its statements, allocates enough garbage for V8 to
 * collect on its own, then idles; forced collections come on top. Prints one JSON line when it got through.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const ROUNDS = 20;
const STATEMENTS_PER_ROUND = 1000;
const GARBAGE_PER_ROUND = 200_000;

const gc = globalThis.gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const idle = (): Promise<void> => new Promise((resolve) => setTimeout(() => setImmediate(resolve), 1));

/** Short-lived objects, so that V8 collects (and queues finalisers) of its own accord. */
function makeGarbage(): number {
  let garbage: { n: number }[] = [];
  for (let n = 0; n < GARBAGE_PER_ROUND; n++) garbage.push({ n });
  const made = garbage.length;
  garbage = [];
  return made;
}

const dir = mkdtempSync(join(tmpdir(), 'certhub-native-gc-'));
try {
  const db = new Database(join(dir, 'gc.db'));
  db.exec('create table t (id integer primary key, v text not null)');
  let prepared = 0;
  let executed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < STATEMENTS_PER_ROUND; i++) {
      const n = round * STATEMENTS_PER_ROUND + i;
      // A distinct SQL text each time, so every statement is its own native object, dropped straight away.
      const select = db.prepare(`select v from t where id = ${n} or v = 'x${n}'`);
      prepared++;
      if (i % 10 === 0) {
        select.get();
        executed++;
      }
      if (i % 50 === 0) {
        db.prepare(`insert into t (v) values (?) -- ${n}`).run(`r${round}i${i}`);
        prepared++;
        executed++;
      }
    }
    makeGarbage();
    await idle();
    await idle();
    if (round % 5 === 4) {
      gc();
      await idle();
    }
  }
  db.close();
  // Statements still unreachable after close are finalised now, with their database gone.
  for (let i = 0; i < 3; i++) {
    makeGarbage();
    await idle();
  }
  gc();
  await idle();
  process.stdout.write(`${JSON.stringify({ node: process.version, prepared, executed })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
