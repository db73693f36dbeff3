/** Where Stripe sends the payer back: waits, polling, until the plan subscription is active. */
import { useEffect, useState } from 'react';

import { formatMoney } from '@nudges/shared/format';
import { gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link, useLocation } from '@nudges/shared/router';
import { ErrorMessage, Loading, Notice } from '@nudges/shared/ui';
import { CLIENT_PLAN_STATUS } from '../operations';
import type { PlanSubscription } from '../types';

type Status = { viewer: { __typename: string; subscription?: PlanSubscription | null } | null };

/** How often and how long to ask before saying it takes longer than usual. */
export const POLL_MS = 2000;
const PATIENCE_MS = 60000;

export function CheckoutSuccess() {
  const { t, locale } = useI18n();
  const { search } = useLocation();
  const sessionId = search.get('session_id');
  const [subscription, setSubscription] = useState<PlanSubscription | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [slow, setSlow] = useState(false);
  const [signedOut, setSignedOut] = useState(false);

  useEffect(() => {
    let stopped = false;
    const started = Date.now();
    let timer: number | undefined;
    const poll = async () => {
      try {
        const data = await gql<Status>(CLIENT_PLAN_STATUS);
        if (stopped) return;
        setError(null);
        if (data.viewer?.__typename !== 'Client') {
          setSignedOut(true);
          return;
        }
        const current = data.viewer.subscription ?? null;
        setSubscription(current);
        if (current?.status === 'ACTIVE') return;
      } catch (cause) {
        if (stopped) return;
        setError(cause);
      }
      setSlow(Date.now() - started > PATIENCE_MS);
      timer = window.setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, []);

  const active = subscription?.status === 'ACTIVE';
  return (
    <section className="card narrow stack">
      <h1>{active ? t('checkout.activeTitle') : t('checkout.title')}</h1>
      {sessionId ? (
        <p className="hint">
          {t('checkout.reference')} <code>{sessionId}</code>
        </p>
      ) : null}
      {signedOut ? (
        <Notice tone="warning">
          {t('checkout.signedOut')} <Link to="/signup">{t('landing.start')}</Link>
        </Notice>
      ) : active && subscription ? (
        <>
          <Notice tone="success">
            {t('checkout.active', {
              plan: subscription.priceTier.plan.name,
              price: formatMoney(subscription.priceTier.amount, subscription.priceTier.currency, locale),
              per: t(`plans.per.${subscription.priceTier.interval}`),
            })}
          </Notice>
          <Link className="button" to="/dashboard">
            {t('checkout.toDashboard')}
          </Link>
        </>
      ) : (
        <>
          <Loading label={t('checkout.waiting')} />
          {slow ? <Notice tone="warning">{t('checkout.slow')}</Notice> : null}
          <ErrorMessage error={error} />
        </>
      )}
    </section>
  );
}
