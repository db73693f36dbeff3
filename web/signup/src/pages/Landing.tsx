/** The public front page: what Nudges does, the plans on offer, and the ways in. */
import { formatMoney, formatNumber } from '@nudges/shared/format';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { ErrorMessage, Loading, useQuery } from '@nudges/shared/ui';
import { PUBLIC_PLANS } from '../operations';
import { lowestMonthly } from '../pricing';
import type { PublicPlan } from '../types';

export function Landing() {
  const { t, locale } = useI18n();
  const plans = useQuery<{ plans: { totalCount: number; nodes: PublicPlan[] } }>(PUBLIC_PLANS);
  const cheapest = plans.data ? lowestMonthly(plans.data.plans.nodes) : undefined;
  return (
    <>
      <section className="card">
        <h1>{t('landing.title')}</h1>
        <p>{t('landing.pitch')}</p>
        <div className="actions">
          <Link className="button" to="/signup">
            {t('landing.start')}
          </Link>
          <Link className="button secondary" to="/me">
            {t('nav.mySubscriptions')}
          </Link>
        </div>
      </section>
      <section className="card" aria-labelledby="totals-h">
        <h2 id="totals-h">{t('landing.onOffer')}</h2>
        <ErrorMessage error={plans.error} onRetry={plans.reload} />
        {plans.loading && !plans.data ? <Loading /> : null}
        {plans.data ? (
          <div className="grid">
            <div className="stat">
              <span className="value">{formatNumber(plans.data.plans.totalCount, locale)}</span>
              <span className="label">{t('landing.plans', { count: plans.data.plans.totalCount })}</span>
            </div>
            {cheapest ? (
              <div className="stat">
                <span className="value">{formatMoney(cheapest.amount, cheapest.currency, locale)}</span>
                <span className="label">{t('landing.fromPerMonth')}</span>
              </div>
            ) : null}
          </div>
        ) : null}
      </section>
      <section className="card" aria-labelledby="how-h">
        <h2 id="how-h">{t('landing.howTitle')}</h2>
        <ol>
          <li>{t('landing.how1')}</li>
          <li>{t('landing.how2')}</li>
          <li>{t('landing.how3')}</li>
        </ol>
      </section>
    </>
  );
}
