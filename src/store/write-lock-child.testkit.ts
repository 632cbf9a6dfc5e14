/**
 * Run by the finding 8 test as `node --import tsx write-lock-child.testkit.ts <sqlite file>`: a second process that
 * takes the database's write lock (BEGIN IMMEDIATE), writes a row it never commits, prints `held`, and holds the lock
 * until it reads `release` on stdin; then it rolls back, prints `released` and exits.
 */
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: write-lock-child.testkit.ts <sqlite file>');
const db = new Database(file, { timeout: 5000 });
db.exec('BEGIN IMMEDIATE');
db.prepare("insert into meta (key, value) values ('held-by-another-process', 'never committed')").run();
process.stdout.write('held\n');

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'release') return;
  db.exec('ROLLBACK');
  db.close();
  lines.close();
  // The parent keeps its end of stdin open: leave once the word is out.
  process.stdout.write('released\n', () => process.exit(0));
});
