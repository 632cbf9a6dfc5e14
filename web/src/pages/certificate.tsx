/** One certificate: what it is, whose it is (a link to the person), and where certhub pushed it. */
import { api } from '../api.ts';
import { formatDay, formatInstant } from '../format.ts';
import { Link } from '../router.tsx';
import type { Certificate, PushRuleView } from '../types.ts';
import { Badge, ErrorNote, Loading, Page, useLoad } from '../ui.tsx';
import { CertificatePushes } from './push-log.tsx';

export function CertificatePage(props: { id: string; admin: boolean }) {
  const cert = useLoad(() => api<Certificate>(`/v1/certificates/${encodeURIComponent(props.id)}`), [props.id]);
  const rules = useLoad(() => api<{ items: PushRuleView[] }>('/v1/push-rules'), []);
  if (cert.loading && cert.data === null) return <Loading />;
  if (cert.data === null) {
    return (
      <Page title="Certificate">
        <ErrorNote error={cert.error} />
        <Link to="/people">Go to people</Link>
      </Page>
    );
  }
  const c = cert.data;
  const title = c.achievement.title ?? c.achievement.code ?? c.achievement.external_id;
  const named = [c.subject.first_name, c.subject.last_name].filter((n) => n !== null && n !== '').join(' ');
  const holder = named !== '' ? named : (c.subject.email ?? 'its holder');
  return (
    <Page title={title}>
      <dl>
        <dt>Person</dt>
        <dd>{c.person_id === null ? holder : <Link to={`/people/${encodeURIComponent(c.person_id)}`}>{holder}</Link>}</dd>
        <dt>Validity</dt>
        <dd>
          <Badge value={c.validity} /> valid {formatDay(c.valid_from)} to {c.valid_until === null ? 'no end date' : formatDay(c.valid_until)}
        </dd>
        <dt>Achievement</dt>
        <dd>
          {c.achievement.code ?? '—'} <span className="muted">(id {c.achievement.external_id} at {c.provider})</span>
        </dd>
        <dt>Source</dt>
        <dd>
          {c.source} <span className="muted">({c.provider})</span>
        </dd>
        <dt>Issued</dt>
        <dd>{formatInstant(c.issued_at)}</dd>
        <dt>Certificate id</dt>
        <dd>
          <code>{c.id}</code>
        </dd>
      </dl>
      <h2>Pushes</h2>
      <ErrorNote error={rules.error} />
      <CertificatePushes certificateId={c.id} admin={props.admin} rules={rules.data?.items ?? []} emptyText="No push rule has pushed this certificate." />
    </Page>
  );
}
