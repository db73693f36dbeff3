/** One client: profile, plan subscription (cancel at period end), recent announcements. */
import { useState } from 'react';

import { formatDate, formatMoney, formatNumber } from '@nudges/shared/format';
import { gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { Empty, ErrorMessage, Loading, useAction, useQuery } from '@nudges/shared/ui';
import { CANCEL_PLAN_SUBSCRIPTION, CLIENT } from '../operations';
import type { ClientDetailQuery } from '../generated/graphql';
import { AnnouncementTable } from './Announcements';

export function ClientDetail({ id }: { id: string }) {
  const { t, locale } = useI18n();
  const query = useQuery<ClientDetailQuery>(CLIENT, { id });
  const cancel = useAction();
  const [confirming, setConfirming] = useState(false);
  const client = query.data?.client;
  if (query.loading && !query.data) return <Loading />;
  if (query.error && !client) return <ErrorMessage error={query.error} onRetry={query.reload} />;
  if (!client) return <Empty>{t('error.notFound')}</Empty>;
  const sub = client.subscription;
  return (
    <>
      <p>
        <Link to="/clients">{t('client.back')}</Link>
      </p>
      <h1>{client.name}</h1>
      <section className="card" aria-labelledby="profile-h">
        <h2 id="profile-h">{t('client.profile')}</h2>
        <dl className="facts">
          <dt>{t('clients.address')}</dt>
          <dd>
            <code>/c/{client.slug}</code>
          </dd>
          <dt>{t('field.locale')}</dt>
          <dd>{client.locale}</dd>
          <dt>{t('clients.subscribers')}</dt>
          <dd>{formatNumber(client.subscriberCount, locale)}</dd>
          <dt>{t('clients.quietHours')}</dt>
          <dd data-testid="quiet-hours">{t(client.quietHours ? 'clients.quietOn' : 'clients.quietOff')}</dd>
          <dt>{t('clients.timeZone')}</dt>
          <dd data-testid="time-zone">
            {client.timeZone}
            {client.timeZoneSet ? '' : ` (${t('clients.timeZoneAutomatic')})`}
          </dd>
          <dt>{t('clients.stripeCustomer')}</dt>
          <dd>{client.stripeCustomerId ? <code>{client.stripeCustomerId}</code> : '—'}</dd>
          <dt>{t('clients.since')}</dt>
          <dd>{formatDate(client.createdAt, locale)}</dd>
        </dl>
      </section>
      <section className="card" aria-labelledby="sub-h">
        <h2 id="sub-h">{t('client.plan')}</h2>
        {sub ? (
          <>
            <dl className="facts">
              <dt>{t('plans.name')}</dt>
              <dd>
                {sub.priceTier.plan.name} — {formatMoney(sub.priceTier.amount, sub.priceTier.currency, locale)} / {t(`per.${sub.priceTier.interval}`)}
              </dd>
              <dt>{t('plans.status')}</dt>
              <dd>
                <span className={`badge ${sub.status === 'ACTIVE' ? 'ok' : sub.status === 'PAST_DUE' ? 'warn' : 'neutral'}`}>{t(`subStatus.${sub.status}`)}</span>
                {sub.cancelAtPeriodEnd ? ` · ${t('client.endsAt', { date: formatDate(sub.currentPeriodEnd, locale) })}` : ''}
              </dd>
              <dt>{t('client.periodEnd')}</dt>
              <dd>{formatDate(sub.currentPeriodEnd, locale)}</dd>
              <dt>{t('client.stripeSubscription')}</dt>
              <dd>
                <code>{sub.stripeSubscriptionId}</code>
              </dd>
            </dl>
            <ErrorMessage error={cancel.error} />
            {sub.status !== 'CANCELED' && !sub.cancelAtPeriodEnd ? (
              confirming ? (
                <div className="actions">
                  <p>{t('client.cancelConfirm')}</p>
                  <button
                    type="button"
                    className="danger"
                    disabled={cancel.busy}
                    onClick={() =>
                      void cancel.run(async () => {
                        await gql(CANCEL_PLAN_SUBSCRIPTION, { id: sub.id });
                        setConfirming(false);
                        query.reload();
                      })
                    }
                  >
                    {t('client.cancelYes')}
                  </button>
                  <button type="button" className="secondary" onClick={() => setConfirming(false)}>
                    {t('common.cancel')}
                  </button>
                </div>
              ) : (
                <button type="button" className="danger" onClick={() => setConfirming(true)}>
                  {t('client.cancel')}
                </button>
              )
            ) : null}
          </>
        ) : (
          <Empty>{t('client.noPlan')}</Empty>
        )}
      </section>
      <section className="card" aria-labelledby="ann-h">
        <h2 id="ann-h">{t('nav.announcements')}</h2>
        {client.announcements.nodes.length ? <AnnouncementTable items={client.announcements.nodes} showClient={false} /> : <Empty>{t('ann.empty')}</Empty>}
      </section>
    </>
  );
}
