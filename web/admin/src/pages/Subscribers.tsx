/** Subscribers (memberships): all of them, or one client's, by status, a page at a time.
 * The graph has no text search over subscribers (numbers are stored encrypted), so the
 * search finds a client and lists that client's subscribers. */
import { useState } from 'react';

import { formatDate } from '@nudges/shared/format';
import { useSearchForm } from '@nudges/shared/form';
import { useI18n } from '@nudges/shared/i18n';
import { Empty, ErrorMessage, Loading, Pager, SelectField, useCursorPages, useQuery } from '@nudges/shared/ui';
import { CLIENT_SUBSCRIBERS, FIND_CLIENTS, SUBSCRIBERS } from '../operations';
import type { Connection, Membership } from '../types';

const PAGE = 25;

interface Found {
  clients: { totalCount: number; nodes: { id: string; name: string; slug: string }[] };
}

export function Subscribers() {
  const { t, locale } = useI18n();
  const [status, setStatus] = useState<'' | 'ACTIVE' | 'STOPPED'>('');
  const [search, setSearch] = useState('');
  const searchForm = useSearchForm((typed) => {
    setSearch(typed);
  });
  const [client, setClient] = useState<{ id: string; name: string } | null>(null);
  const pages = useCursorPages();
  const variables = { first: PAGE, after: pages.after, status: status || null };
  const all = useQuery<{ subscribers: Connection<Membership> }>(SUBSCRIBERS, variables, client !== null);
  const one = useQuery<{ client: { subscribers: Connection<Membership> } | null }>(CLIENT_SUBSCRIBERS, { ...variables, id: client?.id }, client === null);
  const found = useQuery<Found>(FIND_CLIENTS, { search }, !search);
  const query = client ? one : all;
  const page = client ? one.data?.client?.subscribers : all.data?.subscribers;
  return (
    <>
      <h1>{t('nav.subscribers')}</h1>
      <section className="card stack">
        <form
          role="search"
          className="row"
          onSubmit={(e) => void searchForm.onSubmit(e)}
        >
          <div className="field">
            <label htmlFor="sub-client-search">{t('subscribers.findClient')}</label>
            <input id="sub-client-search" type="search" {...searchForm.field} />
          </div>
          <button type="submit">{t('clients.searchButton')}</button>
        </form>
        {search && found.loading && !found.data ? <Loading /> : null}
        <ErrorMessage error={found.error} />
        {search && found.data ? (
          found.data.clients.nodes.length ? (
            <ul className="actions" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label={t('subscribers.matches')}>
              {found.data.clients.nodes.map((c) => (
                <li key={c.id}>
                  <button
                    type="button"
                    className="secondary"
                    aria-pressed={client?.id === c.id}
                    onClick={() => {
                      setClient({ id: c.id, name: c.name });
                      pages.reset();
                    }}
                  >
                    {c.name} (/c/{c.slug})
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <Empty>{t('clients.noMatch', { search })}</Empty>
          )
        ) : null}
        <div className="row">
          <SelectField
            label={t('subscribers.status')}
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as typeof status);
              pages.reset();
            }}
          >
            <option value="">{t('subscribers.any')}</option>
            <option value="ACTIVE">{t('memberStatus.ACTIVE')}</option>
            <option value="STOPPED">{t('memberStatus.STOPPED')}</option>
          </SelectField>
          {client ? (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setClient(null);
                pages.reset();
              }}
            >
              {t('subscribers.allClients')}
            </button>
          ) : null}
        </div>
        <p role="status">{client ? t('subscribers.ofClient', { name: client.name }) : t('subscribers.ofAll')}</p>
      </section>
      <section className="card">
        <ErrorMessage error={query.error} onRetry={query.reload} />
        {query.loading && !page ? <Loading /> : null}
        {page && !page.nodes.length ? <Empty>{t('subscribers.empty')}</Empty> : null}
        {page?.nodes.length ? (
          <div className="table-wrap">
            <table className="responsive">
              <caption className="visually-hidden">{t('nav.subscribers')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('subscribers.phone')}</th>
                  <th scope="col">{t('ann.client')}</th>
                  <th scope="col">{t('plans.status')}</th>
                  <th scope="col">{t('subscribers.joined')}</th>
                  <th scope="col">{t('field.locale')}</th>
                  <th scope="col">{t('subscribers.source')}</th>
                </tr>
              </thead>
              <tbody>
                {page.nodes.map((m) => (
                  <tr key={m.id}>
                    <td data-label={t('subscribers.phone')}>
                      <span className="mono">{m.subscriber?.phoneMasked ?? '—'}</span>
                    </td>
                    <td data-label={t('ann.client')}>{m.client?.name ?? '—'}</td>
                    <td data-label={t('plans.status')}>
                      <span className={`badge ${m.status === 'ACTIVE' ? 'ok' : 'neutral'}`}>{t(`memberStatus.${m.status}`)}</span>
                    </td>
                    <td data-label={t('subscribers.joined')}>{formatDate(m.joinedAt, locale)}</td>
                    <td data-label={t('field.locale')}>{m.subscriber?.locale ?? '—'}</td>
                    <td data-label={t('subscribers.source')}>{m.source}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {page ? <Pager pages={pages} pageInfo={page.pageInfo} totalCount={page.totalCount} shown={page.nodes.length} pageSize={PAGE} /> : null}
      </section>
    </>
  );
}
