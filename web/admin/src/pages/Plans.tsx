/** Every plan with its prices and Stripe ids, kept current by the planUpdated subscription. */
import { useEffect, useState } from 'react';

import { formatMoney, formatNumber } from '@nudges/shared/format';
import { subscribe } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { Empty, ErrorMessage, Loading, useQuery } from '@nudges/shared/ui';
import { PLAN_UPDATED, PLANS } from '../operations';
import { INTERVALS, offeredTiers } from '../plans';
import type { Connection, Plan } from '../types';

/** Keeps `plan` in `list`, replacing the one with its id. */
export function mergePlan(list: Plan[], plan: Plan): Plan[] {
  const at = list.findIndex((p) => p.id === plan.id);
  if (at === -1) return [plan, ...list];
  const copy = list.slice();
  copy[at] = plan;
  return copy;
}

export function Plans() {
  const { t, locale } = useI18n();
  const query = useQuery<{ allPlans: Connection<Plan> }>(PLANS);
  const [live, setLive] = useState<'connecting' | 'on' | 'off'>('connecting');
  const { setData } = query;
  useEffect(
    () =>
      subscribe<{ planUpdated: Plan }>(
        PLAN_UPDATED,
        {},
        ({ planUpdated }) => {
          setLive('on');
          setData((previous) =>
            previous ? { allPlans: { ...previous.allPlans, nodes: mergePlan(previous.allPlans.nodes, planUpdated) } } : previous,
          );
        },
        () => setLive('off'),
      ),
    [setData],
  );
  const plans = query.data?.allPlans.nodes ?? [];
  return (
    <>
      <div className="spread">
        <h1>{t('nav.plans')}</h1>
        <Link className="button" to="/plans/new">
          {t('plans.new')}
        </Link>
      </div>
      <p className="hint" role="status">
        {live === 'off' ? t('plans.liveOff') : t('plans.liveOn')}
      </p>
      <ErrorMessage error={query.error} onRetry={query.reload} />
      {query.loading && !query.data ? <Loading /> : null}
      {query.data && !plans.length ? <Empty>{t('plans.empty')}</Empty> : null}
      {plans.length ? (
        <div className="table-wrap card">
          <table className="responsive">
            <caption className="visually-hidden">{t('nav.plans')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('plans.name')}</th>
                <th scope="col">{t('plans.status')}</th>
                <th scope="col">{t('plans.messages')}</th>
                {INTERVALS.map((i) => (
                  <th scope="col" key={i}>
                    {t(`interval.${i}`)}
                  </th>
                ))}
                <th scope="col">{t('plans.stripeProduct')}</th>
              </tr>
            </thead>
            <tbody>
              {plans.map((plan) => {
                const offered = offeredTiers(plan.tiers);
                return (
                  <tr key={plan.id}>
                    <td data-label={t('plans.name')}>
                      <Link to={`/plans/${plan.id}`}>{plan.name}</Link>
                    </td>
                    <td data-label={t('plans.status')}>
                      <span className={`badge ${plan.active ? 'ok' : 'neutral'}`}>
                        {plan.active ? t('plans.active') : t('plans.archived')}
                      </span>
                    </td>
                    <td data-label={t('plans.messages')}>
                      {plan.features ? formatNumber(plan.features.messagesPerPeriod, locale) : '—'}
                    </td>
                    {INTERVALS.map((i) => {
                      const tier = offered[i];
                      return (
                        <td key={i} data-label={t(`interval.${i}`)}>
                          {tier ? formatMoney(tier.amount, tier.currency, locale) : '—'}
                        </td>
                      );
                    })}
                    <td data-label={t('plans.stripeProduct')}>
                      {plan.stripeProductId ? <code>{plan.stripeProductId}</code> : <span className="hint">{t('plans.stripePending')}</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
