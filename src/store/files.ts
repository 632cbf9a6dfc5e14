/**
 * The certificate file archive: bytes kept content-addressed by sha256 in `file_blobs` (one copy however many
 * certificates share it), and each certificate's `file_sha256` pointing at its archived file.
 */
import { createHash } from 'node:crypto';
import { isoNow, type StoreContext } from './context.ts';

export interface FileBlob {
  sha256: string;
  content_type: string;
  size: number;
  bytes: Buffer;
  created_at: string;
}

export interface FileRepository {
  /** Archives the bytes (idempotent: the same bytes twice are one blob) and answers their sha256. */
  putBlob(bytes: Buffer, contentType: string, opts?: { now?: Date }): Promise<string>;
  getBlob(sha256: string): Promise<FileBlob | null>;
  /**
   * Points the certificate at an archived file. Not a change of the certificate as the provider has it: neither
   * updated_at nor the versions move. False when the tenant has no such certificate.
   */
  setCertificateFile(tenantId: string, certificateId: string, sha256: string): Promise<boolean>;
}

export function sha256OfBytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function createFileRepository(ctx: StoreContext): FileRepository {
  const { db } = ctx;
  return {
    async putBlob(bytes, contentType, opts) {
      const sha256 = sha256OfBytes(bytes);
      await db
        .insertInto('file_blobs')
        .values({ sha256, content_type: contentType, size: bytes.length, bytes, created_at: isoNow(opts?.now) })
        // Same sha256, same bytes: whoever stored them first (another request, another process) stored these.
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      return sha256;
    },

    async getBlob(sha256) {
      const row = await db.selectFrom('file_blobs').selectAll().where('sha256', '=', sha256).executeTakeFirst();
      if (row === undefined) return null;
      // better-sqlite3 and pg both answer a Buffer; the copy keeps callers off a driver's shared memory.
      return { ...row, size: Number(row.size), bytes: Buffer.from(row.bytes) };
    },

    async setCertificateFile(tenantId, certificateId, sha256) {
      const result = await db
        .updateTable('certificates')
        .set({ file_sha256: sha256 })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', certificateId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
