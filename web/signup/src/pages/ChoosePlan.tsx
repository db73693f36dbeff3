/** Plans on offer with a weekly / monthly / yearly switch, a discount code, and checkout. */
import { useMemo, useState } from 'react';
import { z } from 'zod/mini';

import { ApiError, fieldErrors } from '@nudges/shared/errors';
import { useSchemaForm } from '@nudges/shared/form';
import { formatMoney } from '@nudges/shared/format';
import { gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { Empty, ErrorMessage, Loading, Notice, TextField, useAction, useQuery } from '@nudges/shared/ui';
import { CREATE_CHECKOUT_SESSION, PUBLIC_PLANS } from '../operations';
import { discountCodeSchema, INTERVALS, offeredIntervals, tierFor } from '../pricing';
import { leaveFor } from '../redirect';
import { useSession } from '../session';
import type { Interval, PublicPlan } from '../types';

/** How often, and how long apart, to ask again while the billing account is being set up. */
export const CONFLICT_RETRIES = 8;
export const CONFLICT_WAIT_MS = 2000;

const discountFormSchema = z.object({ discountCode: discountCodeSchema });

export function ChoosePlan() {
  const { t, locale } = useI18n();
  const session = useSession();
  const query = useQuery<{ plans: { totalCount: number; nodes: PublicPlan[] } }>(PUBLIC_PLANS);
  const [interval, setInterval] = useState<Interval>('MONTH');
  const form = useSchemaForm(discountFormSchema, { discountCode: '' });
  const [chosen, setChosen] = useState<string | null>(null);
  const checkout = useAction();
  const [waiting, setWaiting] = useState(false);
  // One key per visit and choice: a double click opens one Stripe session, not two.
  const visit = useMemo(() => Math.random().toString(36).slice(2), []);
  const plans = query.data?.plans.nodes ?? [];
  const offered = offeredIntervals(plans);
  const isClient = session.viewer?.__typename === 'Client';

  const buy = (tierId: string) => form.handleSubmit((value) => checkoutWith(tierId, value.discountCode))();

  const checkoutWith = async (tierId: string, discount: string) => {
    setChosen(tierId);
    const code = discount.toUpperCase() || null;
    const open = () =>
      gql<{ createCheckoutSession: { url: string } }>(CREATE_CHECKOUT_SESSION, {
        priceTierId: tierId,
        discountCode: code,
        idempotencyKey: `${visit}:${tierId}:${code ?? ''}`,
      });
    const session = await checkout.run(async () => {
      // Right after sign-up the Stripe customer is still being created (CONFLICT): wait a little.
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await open();
        } catch (error) {
          if (!(error instanceof ApiError && error.has('CONFLICT')) || attempt >= CONFLICT_RETRIES) throw error;
          setWaiting(true);
          await new Promise((done) => window.setTimeout(done, CONFLICT_WAIT_MS));
        }
      }
    });
    setWaiting(false);
    if (session) leaveFor(session.createCheckoutSession.url);
  };

  const server = fieldErrors(checkout.error, t);
  const discountServer = server.discountCode ?? server.discount_code;
  const discountError = form.formState.errors.discountCode?.message;
  return (
    <>
      <h1>{t('plans.title')}</h1>
      {!session.loading && !isClient ? (
        <Notice tone="warning">
          {t('plans.signUpFirst')} <Link to="/signup">{t('landing.start')}</Link>
        </Notice>
      ) : null}
      <div className="card stack">
        <div role="group" aria-label={t('plans.billing')} className="segmented">
          {INTERVALS.map((i) => (
            <button key={i} type="button" aria-pressed={interval === i} onClick={() => setInterval(i)} disabled={plans.length > 0 && !offered.includes(i)}>
              {t(`interval.${i}`)}
            </button>
          ))}
        </div>
        <TextField
          id="discount-code"
          label={t('plans.discount')}
          hint={t('plans.discountHint')}
          autoCapitalize="characters"
          {...form.register('discountCode')}
          error={discountError ? t(discountError) : discountServer}
        />
      </div>
      <ErrorMessage error={query.error} onRetry={query.reload} />
      {waiting ? <Notice>{t('plans.settingUp')}</Notice> : null}
      {discountServer ? null : <ErrorMessage error={checkout.error} />}
      {query.loading && !query.data ? <Loading /> : null}
      {query.data && !plans.length ? <Empty>{t('plans.none')}</Empty> : null}
      <div className="grid">
        {plans.map((plan) => {
          const tier = tierFor(plan, interval);
          const headingId = `plan-${plan.id}`;
          return (
            <section key={plan.id} className="card stack" aria-labelledby={headingId}>
              <h2 id={headingId}>{plan.name}</h2>
              {plan.description ? <p>{plan.description}</p> : null}
              <p className="stat">
                <span className="value">{tier ? formatMoney(tier.amount, tier.currency, locale) : '—'}</span>
                <span className="label">{tier ? t(`plans.per.${interval}`) : t('plans.notOffered')}</span>
              </p>
              {plan.features ? (
                <ul>
                  <li>{t('plans.messages', { count: plan.features.messagesPerPeriod })}</li>
                  <li>{t(`plans.support.${plan.features.supportTier}`)}</li>
                  {plan.features.aiAssist ? <li>{t('plans.aiAssist')}</li> : null}
                </ul>
              ) : null}
              <button
                type="button"
                disabled={!tier || !isClient || checkout.busy}
                onClick={() => tier && void buy(tier.id)}
              >
                {checkout.busy && chosen === tier?.id ? t('plans.opening') : t('plans.chooseNamed', { name: plan.name })}
              </button>
            </section>
          );
        })}
      </div>
    </>
  );
}
