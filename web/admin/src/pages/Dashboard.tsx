/** Totals of every subgraph, and the last two weeks day by day. */
import { lazy, Suspense, useMemo, type ReactNode } from 'react';

import { lastDays, type Day } from '../activity';
import { formatMoney, formatNumber } from '@nudges/shared/format';
import { useI18n } from '@nudges/shared/i18n';
import { ErrorMessage, Loading, useQuery } from '@nudges/shared/ui';
import { DAILY_ACTIVITY, PAYMENT_TOTALS, PRODUCT_TOTALS, USER_TOTALS } from '../operations';

interface UserTotals {
  clients: number;
  subscribers: number;
  activeMemberships: number;
  announcements: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesFailed: number;
}

interface Money {
  amount: number | string;
  currency: string;
}

interface ProductTotals {
  activePlans: number;
  activeSubscriptions: number;
  pastDueSubscriptions: number;
  canceledSubscriptions: number;
  monthlyRecurringRevenue: Money[];
}

interface PaymentTotals {
  confirmations: number;
  revenue: (Money & { confirmations: number })[];
}

const DAYS = 14;
// Recharts is most of the dashboard's weight: loaded with the chart, not with the app.
const DailyChart = lazy(() => import('./Chart').then((module) => ({ default: module.DailyChart })));

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <span className="value">{value}</span>
      <span className="label">{label}</span>
    </div>
  );
}

function Panel<T>({
  title,
  state,
  render,
}: {
  title: string;
  state: { data: T | undefined; error: unknown; loading: boolean; reload: () => void };
  render: (data: T) => ReactNode;
}) {
  return (
    <section className="card" aria-labelledby={`${title}-h`}>
      <h2 id={`${title}-h`}>{title}</h2>
      {state.error ? <ErrorMessage error={state.error} onRetry={state.reload} /> : null}
      {state.loading && !state.data ? <Loading /> : null}
      {state.data ? <div className="grid">{render(state.data)}</div> : null}
    </section>
  );
}

function ActivityChart() {
  const { t } = useI18n();
  const window = useMemo(() => lastDays(DAYS), []);
  const query = useQuery<{ dailyActivity: Day[] }>(DAILY_ACTIVITY, window);
  const activity = query.data?.dailyActivity;
  const days = activity?.map((d) => d.day) ?? [];
  return (
    <section className="card" aria-labelledby="activity-h">
      <h2 id="activity-h">{t('dash.activity', { days: DAYS })}</h2>
      <p className="hint">{t('dash.activityHow')}</p>
      {query.error ? <ErrorMessage error={query.error} onRetry={query.reload} /> : null}
      {query.loading && !activity ? <Loading /> : null}
      {activity ? (
        <Suspense fallback={<Loading />}>
          <h3>{t('dash.messagesPerDay')}</h3>
          <DailyChart
            title={t('dash.messagesPerDay')}
            days={days}
            series={[
              { key: 'sent', label: t('dash.sent'), color: '#1f4fd1', values: activity.map((d) => d.messagesSent) },
              {
                key: 'delivered',
                label: t('dash.delivered'),
                color: '#1b6b3a',
                dash: '8 4',
                values: activity.map((d) => d.messagesDelivered),
              },
              {
                key: 'failed',
                label: t('dash.failed'),
                color: '#b3261e',
                dash: '2 3',
                values: activity.map((d) => d.messagesFailed),
              },
            ]}
          />
          <h3>{t('dash.joinedPerDay')}</h3>
          <DailyChart
            title={t('dash.joinedPerDay')}
            days={days}
            series={[
              { key: 'joined', label: t('dash.joined'), color: '#6b2fb3', values: activity.map((d) => d.newSubscribers) },
            ]}
          />
        </Suspense>
      ) : null}
    </section>
  );
}

export function Dashboard() {
  const { t, locale } = useI18n();
  const users = useQuery<{ userTotals: UserTotals }>(USER_TOTALS);
  const products = useQuery<{ productTotals: ProductTotals }>(PRODUCT_TOTALS);
  const payments = useQuery<{ paymentTotals: PaymentTotals }>(PAYMENT_TOTALS);
  const n = (value: number) => formatNumber(value, locale);
  const money = (list: Money[]) =>
    list.length ? list.map((m) => formatMoney(Number(m.amount), m.currency, locale)).join(' · ') : formatMoney(0, 'usd', locale);
  return (
    <>
      <h1>{t('nav.dashboard')}</h1>
      <Panel
        title={t('dash.people')}
        state={{ ...users, data: users.data?.userTotals }}
        render={(u) => (
          <>
            <Stat label={t('dash.clients')} value={n(u.clients)} />
            <Stat label={t('dash.subscribers')} value={n(u.subscribers)} />
            <Stat label={t('dash.activeMemberships')} value={n(u.activeMemberships)} />
            <Stat label={t('dash.announcements')} value={n(u.announcements)} />
            <Stat label={t('dash.messagesSent')} value={n(u.messagesSent)} />
            <Stat label={t('dash.messagesDelivered')} value={n(u.messagesDelivered)} />
            <Stat label={t('dash.messagesFailed')} value={n(u.messagesFailed)} />
          </>
        )}
      />
      <Panel
        title={t('dash.plans')}
        state={{ ...products, data: products.data?.productTotals }}
        render={(p) => (
          <>
            <Stat label={t('dash.activePlans')} value={n(p.activePlans)} />
            <Stat label={t('dash.activeSubscriptions')} value={n(p.activeSubscriptions)} />
            <Stat label={t('dash.pastDue')} value={n(p.pastDueSubscriptions)} />
            <Stat label={t('dash.canceled')} value={n(p.canceledSubscriptions)} />
            <Stat label={t('dash.mrr')} value={money(p.monthlyRecurringRevenue)} />
          </>
        )}
      />
      <Panel
        title={t('dash.payments')}
        state={{ ...payments, data: payments.data?.paymentTotals }}
        render={(p) => (
          <>
            <Stat label={t('dash.paidInvoices')} value={n(p.confirmations)} />
            <Stat label={t('dash.revenue')} value={money(p.revenue)} />
          </>
        )}
      />
      <ActivityChart />
    </>
  );
}
