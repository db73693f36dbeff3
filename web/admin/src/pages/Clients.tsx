/** Clients, searched by name or address, a page at a time. */
import { useState } from 'react';

import { formatDate, formatNumber } from '@nudges/shared/format';
import { useSearchForm } from '@nudges/shared/form';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { Empty, ErrorMessage, Loading, Pager, useCursorPages, useQuery } from '@nudges/shared/ui';
import { CLIENTS } from '../operations';
import type { PageInfo } from '@nudges/shared/ui';
import type { ClientRow } from '../types';

export const CLIENTS_PAGE = 20;

interface ClientPage {
  clients: { totalCount: number; pageInfo: PageInfo; edges: { cursor: string; node: ClientRow }[] };
}

export function Clients() {
  const { t, locale } = useI18n();
  const [search, setSearch] = useState('');
  const pages = useCursorPages();
  const searchForm = useSearchForm((typed) => {
    setSearch(typed);
    pages.reset();
  });
  const query = useQuery<ClientPage>(CLIENTS, { first: CLIENTS_PAGE, after: pages.after, search: search || null });
  const clients = query.data?.clients;
  return (
    <>
      <h1>{t('nav.clients')}</h1>
      <form
        role="search"
        className="card row"
        onSubmit={(e) => void searchForm.onSubmit(e)}
      >
        <div className="field">
          <label htmlFor="client-search">{t('clients.search')}</label>
          <input id="client-search" type="search" {...searchForm.field} />
        </div>
        <button type="submit">{t('clients.searchButton')}</button>
      </form>
      <section className="card" aria-live="polite" aria-busy={query.loading}>
        <ErrorMessage error={query.error} onRetry={query.reload} />
        {query.loading && !clients ? <Loading /> : null}
        {clients && !clients.edges.length ? <Empty>{search ? t('clients.noMatch', { search }) : t('clients.empty')}</Empty> : null}
        {clients?.edges.length ? (
          <div className="table-wrap">
            <table className="responsive">
              <caption className="visually-hidden">{t('nav.clients')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('clients.name')}</th>
                  <th scope="col">{t('clients.address')}</th>
                  <th scope="col" className="num">
                    {t('clients.subscribers')}
                  </th>
                  <th scope="col">{t('clients.stripeCustomer')}</th>
                  <th scope="col">{t('clients.since')}</th>
                </tr>
              </thead>
              <tbody>
                {clients.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td data-label={t('clients.name')}>
                      <Link to={`/clients/${node.id}`}>{node.name}</Link>
                    </td>
                    <td data-label={t('clients.address')}>
                      <code>/c/{node.slug}</code>
                    </td>
                    <td data-label={t('clients.subscribers')} className="num">
                      {formatNumber(node.subscriberCount, locale)}
                    </td>
                    <td data-label={t('clients.stripeCustomer')}>{node.stripeCustomerId ? <code>{node.stripeCustomerId}</code> : '—'}</td>
                    <td data-label={t('clients.since')}>{formatDate(node.createdAt, locale)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {clients ? (
          <Pager pages={pages} pageInfo={clients.pageInfo} totalCount={clients.totalCount} shown={clients.edges.length} pageSize={CLIENTS_PAGE} />
        ) : null}
      </section>
    </>
  );
}
