/**
 * The public pages on the Credentials host: `certificate_url` (credentials:render, RenderCredential in
 * credentials/apps/credentials/views.py) and, for the Sumac `downloadUrls` option only, the simulator's own PDF
 * behind `download_url` (upstream never served one; see README).
 */
import type { SimRoute } from '../common/server.ts';
import { rowOfUuid } from './api.ts';
import { KIND_PROGRAM, KIND_RUN, type OpenedxData } from './data.ts';
import { notFoundPage } from './django.ts';
import { certificateHtml, certificatePdf } from './present.ts';

/**
 * _get_program_certificate_visible_date (credentials/apps/credentials/utils.py): the latest issue date of the
 * learner's course-run credentials (any status) for the program's runs, each its run's certificate_available_date
 * or else its `created`; null when the learner holds none of them.
 */
export function programVisibleMs(data: OpenedxData, row: number): number | null {
  const t = data.credentials;
  const program = data.catalog.programs[t.target[row] as number];
  if (!program) return null;
  let last: number | null = null;
  for (const r of data.users.credentials[t.user[row] as number] ?? []) {
    if (t.kind[r] !== KIND_RUN || !program.runSet.has(t.target[r] as number)) continue;
    const run = data.catalog.runs[t.target[r] as number];
    const date = run?.certificateAvailableMs ?? Math.floor((t.created[r] as number) / 1000);
    last = last === null ? date : Math.max(last, date);
  }
  return last;
}

export function certificatePageRoutes(data: OpenedxData, opts: { pdf: boolean }): SimRoute[] {
  const routes: SimRoute[] = [
    {
      method: 'GET',
      path: '/credentials/:hex/',
      doc: 'certificate_url: the public certificate page (awarded, visible program credentials only).',
      handle(req) {
        const row = rowOfUuid(data, req.params.hex);
        // get_object_or_404(status=AWARDED, program_credentials__site=...): revoked and course-run credentials 404;
        // get_visible_date raises Http404 when the program's visible date is unknown or still ahead.
        if (row < 0 || data.credentials.status[row] !== 0 || data.credentials.kind[row] !== KIND_PROGRAM) return notFoundPage();
        const visible = programVisibleMs(data, row);
        if (visible === null || req.now.getTime() < visible) return notFoundPage();
        return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: certificateHtml(data, row) };
      },
    },
  ];
  if (opts.pdf) {
    routes.push({
      method: 'GET',
      path: '/credentials/:hex/download/',
      doc: 'download_url (Sumac, downloadUrls option): the certificate as PDF, for any listed credential.',
      handle(req) {
        const row = rowOfUuid(data, req.params.hex);
        if (row < 0) return notFoundPage();
        return { status: 200, headers: { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="credential-${req.params.hex ?? ''}.pdf"` }, body: certificatePdf(data, row) };
      },
    });
  }
  return routes;
}
