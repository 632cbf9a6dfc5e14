/** Compact record storage for simulators: typed-array columns that grow by doubling. */
export type Column = Int32Array | Uint32Array | Int16Array | Uint16Array | Uint8Array | Float64Array;

/** `col` if it holds `need` entries, else a copy at least twice as long. */
export function grown<T extends Column>(col: T, need: number): T {
  if (need <= col.length) return col;
  const next = new (col.constructor as new (n: number) => T)(Math.max(need, col.length * 2, 16));
  next.set(col);
  return next;
}
