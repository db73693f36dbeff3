/** Announcements with their delivery figures; those still sending update live. */
import { useEffect } from 'react';

import { formatDateTime, formatNumber } from '@nudges/shared/format';
import { subscribe } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { Empty, ErrorMessage, Loading, Pager, useCursorPages, useQuery } from '@nudges/shared/ui';
import { ANNOUNCEMENT_PROGRESS, ANNOUNCEMENTS } from '../operations';
import type { Announcement, Connection } from '../types';

const PAGE = 20;
const IN_FLIGHT = new Set(['CONFIRMED', 'SENDING']);

/** An announcement as the tables show it; a client's own page leaves the client out. */
type AnnouncementRow = Omit<Announcement, 'client'> & { client?: Announcement['client'] };

export function AnnouncementTable({ items, showClient = true }: { items: AnnouncementRow[]; showClient?: boolean }) {
  const { t, locale } = useI18n();
  const n = (v: number) => formatNumber(v, locale);
  return (
    <div className="table-wrap">
      <table className="responsive">
        <thead>
          <tr>
            <th scope="col">{t('ann.when')}</th>
            {showClient ? <th scope="col">{t('ann.client')}</th> : null}
            <th scope="col">{t('ann.message')}</th>
            <th scope="col">{t('plans.status')}</th>
            <th scope="col" className="num">
              {t('ann.recipients')}
            </th>
            <th scope="col" className="num">
              {t('dash.sent')}
            </th>
            <th scope="col" className="num">
              {t('dash.delivered')}
            </th>
            <th scope="col" className="num">
              {t('dash.failed')}
            </th>
            <th scope="col" className="num">
              {t('dash.held')}
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => {
            const done = a.recipients ? Math.round(((a.delivered + a.failed) / a.recipients) * 100) : 0;
            return (
              <tr key={a.id}>
                <td data-label={t('ann.when')}>{formatDateTime(a.completedAt ?? a.confirmedAt ?? a.createdAt, locale)}</td>
                {showClient ? (
                  <td data-label={t('ann.client')}>{a.client ? <Link to={`/clients/${a.client.id}`}>{a.client.name}</Link> : '—'}</td>
                ) : null}
                <td data-label={t('ann.message')}>{a.body}</td>
                <td data-label={t('plans.status')}>
                  <span className={`badge ${a.status === 'SENT' ? 'ok' : a.status === 'FAILED' ? 'bad' : 'warn'}`}>{t(`annStatus.${a.status}`)}</span>
                  {IN_FLIGHT.has(a.status) ? (
                    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={done} aria-label={t('ann.progress')}>
                      <span style={{ width: `${done}%` }} />
                    </div>
                  ) : null}
                </td>
                <td data-label={t('ann.recipients')} className="num">
                  {n(a.recipients)}
                </td>
                <td data-label={t('dash.sent')} className="num">
                  {n(a.sent)}
                </td>
                <td data-label={t('dash.delivered')} className="num">
                  {n(a.delivered)}
                </td>
                <td data-label={t('dash.failed')} className="num">
                  {n(a.failed)}
                </td>
                <td data-label={t('dash.held')} className="num">
                  {n(a.held)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function Announcements() {
  const { t } = useI18n();
  const pages = useCursorPages();
  const query = useQuery<{ announcements: Connection<Announcement> }>(ANNOUNCEMENTS, { first: PAGE, after: pages.after });
  const page = query.data?.announcements;
  const inFlight = (page?.nodes ?? []).filter((a) => IN_FLIGHT.has(a.status)).map((a) => a.id).join(',');
  const { setData } = query;
  useEffect(() => {
    const stops = inFlight
      .split(',')
      .filter(Boolean)
      .map((id) =>
        subscribe<{ announcementProgress: Partial<Announcement> & { id: string } }>(ANNOUNCEMENT_PROGRESS, { id }, ({ announcementProgress }) =>
          setData((previous) =>
            previous
              ? {
                  announcements: {
                    ...previous.announcements,
                    nodes: previous.announcements.nodes.map((a) => (a.id === announcementProgress.id ? { ...a, ...announcementProgress } : a)),
                  },
                }
              : previous,
          ),
        ),
      );
    return () => stops.forEach((stop) => stop());
  }, [inFlight, setData]);
  return (
    <>
      <h1>{t('nav.announcements')}</h1>
      <section className="card">
        <ErrorMessage error={query.error} onRetry={query.reload} />
        {query.loading && !page ? <Loading /> : null}
        {page && !page.nodes.length ? <Empty>{t('ann.empty')}</Empty> : null}
        {page?.nodes.length ? <AnnouncementTable items={page.nodes} /> : null}
        {page ? <Pager pages={pages} pageInfo={page.pageInfo} totalCount={page.totalCount} shown={page.nodes.length} pageSize={PAGE} /> : null}
      </section>
    </>
  );
}
