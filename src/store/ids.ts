import { randomBytes } from 'node:crypto';

export type IdGenerator = () => string;

const COUNTER_MAX = 0xfff;

/**
 * UUIDv7-style ids (RFC 9562, 48-bit ms timestamp + 12-bit counter + random): lowercase hex sorts in
 * creation order, so `ORDER BY id` is creation order for ids from one generator (roughly so across processes).
 */
export function createIdGenerator(clock: () => number = Date.now): IdGenerator {
  let lastMs = -1;
  let counter = 0;
  return () => {
    let ms = clock();
    if (ms <= lastMs) {
      // Same millisecond, or the clock stepped back: keep counting on from the last id.
      ms = lastMs;
      counter += 1;
      if (counter > COUNTER_MAX) {
        ms += 1;
        counter = randomBytes(2).readUInt16BE(0) & 0x7ff;
      }
    } else {
      // Seeded below 0x800 so at least 2048 ids fit in one millisecond.
      counter = randomBytes(2).readUInt16BE(0) & 0x7ff;
    }
    lastMs = ms;
    const rand = randomBytes(8);
    rand[0] = ((rand[0] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant bits 10
    const hex = ms.toString(16).padStart(12, '0') + '7' + counter.toString(16).padStart(3, '0') + rand.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  };
}
