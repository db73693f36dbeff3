/** A client's dashboard: plan status (live) and plan change, subscribers, join link and QR code,
 * the composer (preview, send now, schedule in the client's time zone), how to announce by SMS,
 * the text-to-join keyword, the time zone, quiet hours, and past announcements with their
 * delivery counts. */
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { z } from 'zod/mini';

import { problems, useSchemaForm } from '@nudges/shared/form';
import { formatDate, formatDateTime, formatMoney, formatNumber } from '@nudges/shared/format';
import { gql, subscribe } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { fieldErrors } from '@nudges/shared/errors';
import { Empty, ErrorMessage, Loading, Notice, PhoneLogin, TextField, useAction, useQuery } from '@nudges/shared/ui';
import {
  CANCEL_PLAN_CHANGE,
  CHANGE_PLAN_SUBSCRIPTION,
  CLIENT_DASHBOARD,
  CLIENT_UPDATED,
  PUBLIC_PLANS,
  SET_KEYWORD,
  SET_QUIET_HOURS,
  SET_TIME_ZONE,
} from '../operations';
import { browserTimeZone, Composer } from './Composer';
import { useSession } from '../session';
import type { Announcement, PlanSubscription, PublicPlan } from '../types';

interface ClientView {
  __typename: 'Client';
  id: string;
  name: string;
  slug: string;
  locale: string;
  subscriberCount: number;
  quietHours: boolean;
  keyword: string | null;
  timeZone: string;
  timeZoneSet: boolean;
  subscription: PlanSubscription | null;
  allowance: {
    active: boolean;
    messagesPerPeriod: number;
    used: number;
    remaining: number;
    state: 'ACTIVE' | 'GRACE' | 'LAPSED' | 'NONE';
    graceEndsAt: string | null;
    graceDaysLeft: number | null;
  };
  announcements: { totalCount: number; nodes: Announcement[] };
}

/** Plan status is also polled: Stripe's confirmation reaches the product subgraph, whose
 * changes `clientUpdated` (a user-subgraph subscription) does not carry. */
export const REFRESH_MS = 15000;

const NUDGES_NUMBER: string = import.meta.env.VITE_NUDGES_NUMBER ?? '';

function JoinLink({ slug }: { slug: string }) {
  const { t } = useI18n();
  const url = `${window.location.origin}/c/${slug}`;
  const [svg, setSvg] = useState<string | null>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toString(url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
      .then((markup) => live && setSvg(markup))
      .catch(() => live && setSvg(null));
    return () => {
      live = false;
    };
  }, [url]);
  return (
    <section className="card" aria-labelledby="join-h">
      <h2 id="join-h">{t('dash.joinTitle')}</h2>
      <p>{t('dash.joinHint')}</p>
      <p>
        <a href={url} className="mono" data-testid="join-link">
          {url}
        </a>
      </p>
      <div className="actions">
        <button
          type="button"
          className="secondary"
          onClick={() => {
            navigator.clipboard?.writeText(url).then(
              () => setCopied('yes'),
              () => setCopied('no'),
            );
          }}
        >
          {t('dash.copy')}
        </button>
        <span role="status">{copied === 'yes' ? t('dash.copied') : copied === 'no' ? t('dash.copyFailed') : ''}</span>
      </div>
      {svg ? (
        <p className="qr">
          <img src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`} alt={t('dash.qrAlt', { url })} width={192} height={192} />
        </p>
      ) : null}
    </section>
  );
}

function PlanStatus({ client }: { client: ClientView }) {
  const { t, locale } = useI18n();
  const sub = client.subscription;
  if (!sub) {
    return (
      <Notice tone="warning">
        {t('dash.noPlan')} <Link to="/plans">{t('dash.choosePlan')}</Link>
      </Notice>
    );
  }
  const tone = sub.status === 'ACTIVE' ? 'ok' : sub.status === 'PAST_DUE' ? 'warn' : 'neutral';
  return (
    <dl className="facts">
      <dt>{t('dash.plan')}</dt>
      <dd>
        {sub.priceTier.plan.name} — {formatMoney(sub.priceTier.amount, sub.priceTier.currency, locale)} {t(`plans.per.${sub.priceTier.interval}`)}
      </dd>
      <dt>{t('dash.status')}</dt>
      <dd>
        <span className={`badge ${tone}`} data-testid="plan-status">
          {t(`subStatus.${sub.status}`)}
        </span>
        {sub.cancelAtPeriodEnd ? ` · ${t('dash.endsOn', { date: formatDate(sub.currentPeriodEnd, locale) })}` : ''}
      </dd>
      {sub.currentPeriodEnd && !sub.cancelAtPeriodEnd ? (
        <>
          <dt>{t('dash.renews')}</dt>
          <dd>{formatDate(sub.currentPeriodEnd, locale)}</dd>
        </>
      ) : null}
      {sub.trialEndsAt && new Date(sub.trialEndsAt).getTime() > Date.now() ? (
        <>
          <dt>{t('dash.trial')}</dt>
          <dd data-testid="plan-trial">{t('dash.trialEnds', { date: formatDate(sub.trialEndsAt, locale) })}</dd>
        </>
      ) : null}
      {sub.pendingPriceTier ? (
        <>
          <dt>{t('dash.planChange')}</dt>
          <dd data-testid="plan-pending">
            {sub.pendingChangeAt
              ? t('dash.changesOn', { plan: sub.pendingPriceTier.plan.name, date: formatDate(sub.pendingChangeAt, locale) })
              : t('dash.changing', { plan: sub.pendingPriceTier.plan.name })}
          </dd>
        </>
      ) : null}
      <dt>{t('dash.allowance')}</dt>
      <dd>
        {t('dash.allowanceLeft', {
          remaining: formatNumber(client.allowance.remaining, locale),
          total: formatNumber(client.allowance.messagesPerPeriod, locale),
        })}
      </dd>
      <PaymentGrace allowance={client.allowance} />
    </dl>
  );
}

/** A past-due plan: sending goes on for the grace period, then stops until a payment. */
function PaymentGrace({ allowance }: { allowance: ClientView['allowance'] }) {
  const { t, locale } = useI18n();
  if (allowance.state !== 'GRACE' && allowance.state !== 'LAPSED') return null;
  return (
    <>
      <dt>{t('dash.sending')}</dt>
      <dd data-testid="plan-grace">
        {allowance.state === 'GRACE'
          ? t('dash.grace', { days: allowance.graceDaysLeft ?? 0, date: formatDate(allowance.graceEndsAt, locale) })
          : t('dash.lapsed')}
      </dd>
    </>
  );
}

/** Another tier of the same currency and interval: an upgrade is charged at once (prorated),
 * a downgrade starts with the next period. */
function ChangePlan({ sub, onChanged }: { sub: PlanSubscription; onChanged: () => void }) {
  const { t, locale } = useI18n();
  const [open, setOpen] = useState(false);
  const [picked, setPicked] = useState<string | null>(null);
  const change = useAction();
  const plans = useQuery<{ plans: { nodes: PublicPlan[] } }>(PUBLIC_PLANS, {}, !open);
  if (sub.status !== 'ACTIVE' || sub.cancelAtPeriodEnd || sub.pendingPriceTier) return null;
  if (!open) {
    return (
      <p>
        <button type="button" className="secondary" onClick={() => setOpen(true)}>
          {t('dash.changePlan')}
        </button>
      </p>
    );
  }
  const current = sub.priceTier;
  const choices = (plans.data?.plans.nodes ?? []).flatMap((plan) =>
    plan.tiers
      .filter((tier) => tier.id !== current.id && tier.currency === current.currency && tier.interval === current.interval)
      .map((tier) => ({ plan, tier })),
  );
  const choice = choices.find((c) => c.tier.id === picked);
  return (
    <fieldset data-testid="change-plan">
      <legend>{t('dash.changePlan')}</legend>
      {plans.loading && !plans.data ? <Loading /> : null}
      {plans.data && !choices.length ? <Empty>{t('dash.noOtherPlans')}</Empty> : null}
      {choices.map(({ plan, tier }) => (
        <label key={tier.id}>
          <input type="radio" name="tier" value={tier.id} checked={picked === tier.id} onChange={() => setPicked(tier.id)} />{' '}
          {plan.name} — {formatMoney(tier.amount, tier.currency, locale)} {t(`plans.per.${tier.interval}`)}
        </label>
      ))}
      {choice ? (
        <p className="hint">
          {sub.trialEndsAt && new Date(sub.trialEndsAt).getTime() > Date.now()
            ? t('dash.trialChangeHint')
            : choice.tier.amount > current.amount
              ? t('dash.upgradeHint')
              : t('dash.downgradeHint')}
        </p>
      ) : null}
      <div className="actions">
        <button
          type="button"
          disabled={!choice || change.busy}
          onClick={() => {
            void change.run(async () => {
              await gql(CHANGE_PLAN_SUBSCRIPTION, { id: sub.id, priceTierId: picked });
              setOpen(false);
              onChanged();
            });
          }}
        >
          {t('dash.confirmChange')}
        </button>
        <button type="button" className="secondary" onClick={() => setOpen(false)}>
          {t('dash.cancelChange')}
        </button>
      </div>
      <ErrorMessage error={change.error ?? plans.error} />
    </fieldset>
  );
}

/** A downgrade waiting for the period's end can be withdrawn until then: the plan stays as it
 * is. (An upgrade is charged at once and cannot.) */
function KeepPlan({ sub, onKept }: { sub: PlanSubscription; onKept: () => void }) {
  const { t, locale } = useI18n();
  const keep = useAction();
  const at = sub.pendingChangeAt;
  if (!sub.pendingPriceTier || !at || sub.status !== 'ACTIVE' || new Date(at).getTime() <= Date.now()) return null;
  return (
    <div className="stack" data-testid="keep-plan">
      <p className="hint">
        {t('dash.keepPlanHint', { plan: sub.priceTier.plan.name, date: formatDate(at, locale) })}
      </p>
      <div className="actions">
        <button
          type="button"
          className="secondary"
          disabled={keep.busy}
          onClick={() => {
            void keep.run(async () => {
              await gql(CANCEL_PLAN_CHANGE, { id: sub.id });
              onKept();
            });
          }}
        >
          {keep.busy ? t('common.working') : t('dash.keepPlan')}
        </button>
      </div>
      <ErrorMessage error={keep.error} />
    </div>
  );
}

function AnnounceBySms({ subscribers }: { subscribers: number }) {
  const { t } = useI18n();
  return (
    <section className="card" aria-labelledby="sms-h">
      <h2 id="sms-h">{t('dash.howTitle')}</h2>
      <ol>
        <li>{NUDGES_NUMBER ? t('dash.how1Number', { number: NUDGES_NUMBER }) : t('dash.how1')}</li>
        <li>{t('dash.how2', { count: subscribers })}</li>
        <li>{t('dash.how3')}</li>
      </ol>
      <p className="hint">{t('dash.howCancel')}</p>
    </section>
  );
}

function QuietHours({ client, onChanged }: { client: ClientView; onChanged: () => void }) {
  const { t } = useI18n();
  const change = useAction();
  return (
    <section className="card" aria-labelledby="quiet-h">
      <h2 id="quiet-h">{t('dash.quietTitle')}</h2>
      <label>
        <input
          type="checkbox"
          data-testid="quiet-hours"
          checked={client.quietHours}
          disabled={change.busy}
          onChange={(event) => {
            const on = event.currentTarget.checked;
            void change.run(async () => {
              await gql(SET_QUIET_HOURS, { id: client.id, on });
              onChanged();
            });
          }}
        />{' '}
        {t('dash.quietLabel')}
      </label>
      <p className="hint">{t('dash.quietHint')}</p>
      <ErrorMessage error={change.error} />
    </section>
  );
}

/** Words of the SMS dialogue, which no client's keyword may be (as UserApi's RESERVED_KEYWORDS). */
const RESERVED_KEYWORDS = new Set(
  ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'END', 'QUIT', 'CANCEL', 'START', 'UNSTOP', 'HELP', 'INFO', 'CONFIRM', 'YES', 'NO', 'JOIN', 'LANG'],
);

/** A keyword as UserApi accepts it: empty (none), or 2 to 20 letters or digits, not one of the
 * dialogue's words; sent upper-case. The messages are i18n ids. */
export const keywordSchema = z.object({
  keyword: z
    .string()
    .check(
      z.trim(),
      z.refine((word) => !word || /^[A-Za-z0-9]{2,20}$/.test(word), 'dash.keywordInvalid'),
      z.refine((word) => !RESERVED_KEYWORDS.has(word.toUpperCase()), 'dash.keywordReserved'),
    ),
});

/** Keywords are matched in any case; the field shows them in capitals as they are typed (before
 * the form reads the value, so that it checks what is shown), the caret staying where it was. */
function capitals(input: HTMLInputElement) {
  const upper = input.value.toUpperCase();
  if (upper === input.value) return;
  const { selectionStart, selectionEnd } = input;
  input.value = upper;
  input.setSelectionRange(selectionStart, selectionEnd);
}

function Keyword({ client, onChanged }: { client: ClientView; onChanged: () => void }) {
  const { t } = useI18n();
  const current = client.keyword ?? '';
  const form = useSchemaForm(keywordSchema, { keyword: current });
  const action = useAction();
  const [saved, setSaved] = useState<string | null>(null);
  const { reset } = form;
  useEffect(() => {
    // What the graph says now (after a save, or another session's change).
    reset({ keyword: current });
  }, [current, reset]);

  const submit = form.handleSubmit(async (value) => {
    setSaved(null);
    const keyword = value.keyword.toUpperCase();
    const done = await action.run(() => gql<{ updateClient: { id: string; keyword: string | null } }>(SET_KEYWORD, { id: client.id, keyword }));
    if (done) {
      const word = done.updateClient.keyword;
      setSaved(word ? t('dash.keywordSaved', { keyword: word }) : t('dash.keywordRemoved', { slug: client.slug }));
      onChanged();
    }
  });
  const problem = problems(form.formState.errors, action.error, t);
  const server = fieldErrors(action.error, t);
  const field = form.register('keyword');
  return (
    <section className="card" aria-labelledby="keyword-h">
      <h2 id="keyword-h">{t('dash.keywordTitle')}</h2>
      <p data-testid="keyword-how">
        {NUDGES_NUMBER
          ? t('dash.keywordHowNumber', { slug: client.slug, number: NUDGES_NUMBER })
          : t('dash.keywordHow', { slug: client.slug })}
      </p>
      <form className="stack" noValidate onSubmit={(e) => void submit(e)}>
        <TextField
          label={t('dash.keywordLabel')}
          hint={t('dash.keywordHint')}
          autoComplete="off"
          spellCheck={false}
          maxLength={20}
          data-testid="keyword"
          {...field}
          onChange={(event) => {
            capitals(event.currentTarget);
            return field.onChange(event);
          }}
          error={problem('keyword')}
        />
        {action.error && !server.keyword ? <ErrorMessage error={action.error} /> : null}
        {saved ? <Notice tone="success">{saved}</Notice> : null}
        <div className="actions">
          <button type="submit" disabled={action.busy} data-testid="keyword-save">
            {action.busy ? t('common.working') : t('dash.keywordSave')}
          </button>
        </div>
      </form>
    </section>
  );
}

/** Whether the browser knows the IANA zone `name` (as UserApi checks it, against the tz database). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Every zone the browser knows, offered as the field is typed in. */
function knownTimeZones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}

/** A time zone setting: empty (the default: the zone of the client's number, else the
 * browser's), or a known IANA name. The messages are i18n ids. */
export const timeZoneSchema = z.object({
  timeZone: z.string().check(
    z.trim(),
    z.refine((zone) => !zone || isTimeZone(zone), 'dash.zoneInvalid'),
  ),
});

function TimeZone({ client, onChanged }: { client: ClientView; onChanged: () => void }) {
  const { t } = useI18n();
  const current = client.timeZoneSet ? client.timeZone : '';
  const form = useSchemaForm(timeZoneSchema, { timeZone: current });
  const action = useAction();
  const [saved, setSaved] = useState<string | null>(null);
  const { reset } = form;
  useEffect(() => {
    reset({ timeZone: current });
  }, [current, reset]);

  const submit = form.handleSubmit(async (value) => {
    setSaved(null);
    const done = await action.run(() =>
      gql<{ updateClient: { id: string; timeZone: string; timeZoneSet: boolean } }>(SET_TIME_ZONE, {
        id: client.id,
        timeZone: value.timeZone,
        browserTimeZone: browserTimeZone(),
      }),
    );
    if (done) {
      const { timeZone, timeZoneSet } = done.updateClient;
      setSaved(timeZoneSet ? t('dash.zoneSaved', { zone: timeZone }) : t('dash.zoneReset', { zone: timeZone }));
      onChanged();
    }
  });
  const problem = problems(form.formState.errors, action.error, t);
  const server = fieldErrors(action.error, t);
  return (
    <section className="card" aria-labelledby="zone-h">
      <h2 id="zone-h">{t('dash.zoneTitle')}</h2>
      <p data-testid="zone-current">
        {client.timeZoneSet ? t('dash.zoneCurrent', { zone: client.timeZone }) : t('dash.zoneAutomatic', { zone: client.timeZone })}
      </p>
      <form className="stack" noValidate onSubmit={(e) => void submit(e)}>
        <TextField
          label={t('dash.zoneLabel')}
          hint={t('dash.zoneHint')}
          autoComplete="off"
          spellCheck={false}
          list="known-time-zones"
          placeholder={client.timeZone}
          data-testid="time-zone"
          {...form.register('timeZone')}
          error={problem('timeZone')}
        />
        <datalist id="known-time-zones">
          {knownTimeZones().map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
        {action.error && !server.timeZone ? <ErrorMessage error={action.error} /> : null}
        {saved ? <Notice tone="success">{saved}</Notice> : null}
        <div className="actions">
          <button type="submit" disabled={action.busy} data-testid="time-zone-save">
            {action.busy ? t('common.working') : t('dash.zoneSave')}
          </button>
        </div>
      </form>
    </section>
  );
}

function History({ announcements }: { announcements: ClientView['announcements'] }) {
  const { t, locale } = useI18n();
  const n = (v: number) => formatNumber(v, locale);
  return (
    <section className="card" aria-labelledby="history-h">
      <h2 id="history-h">{t('dash.history')}</h2>
      {announcements.nodes.length ? (
        <div className="table-wrap">
          <table className="responsive">
            <thead>
              <tr>
                <th scope="col">{t('dash.when')}</th>
                <th scope="col">{t('dash.message')}</th>
                <th scope="col">{t('dash.status')}</th>
                <th scope="col" className="num">
                  {t('dash.recipients')}
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
              {announcements.nodes.map((a) => (
                <tr key={a.id}>
                  <td data-label={t('dash.when')}>{formatDateTime(a.completedAt ?? a.createdAt, locale)}</td>
                  <td data-label={t('dash.message')}>{a.body}</td>
                  <td data-label={t('dash.status')}>{t(`annStatus.${a.status}`)}</td>
                  <td data-label={t('dash.recipients')} className="num">
                    {n(a.recipients)}
                  </td>
                  <td data-label={t('dash.delivered')} className="num">
                    {n(a.delivered)}
                  </td>
                  <td data-label={t('dash.failed')} className="num">
                    {n(a.failed)}
                  </td>
                  <td data-label={t('dash.held')} className="num" data-testid="held">
                    {n(a.held)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <Empty>{t('dash.noAnnouncements')}</Empty>
      )}
    </section>
  );
}

export function Dashboard() {
  const { t, locale } = useI18n();
  const session = useSession();
  const isClient = session.viewer?.__typename === 'Client';
  const query = useQuery<{ viewer: ClientView | { __typename: string } | null }>(CLIENT_DASHBOARD, { browserTimeZone: browserTimeZone() }, !isClient);
  const client = query.data?.viewer?.__typename === 'Client' ? (query.data.viewer as ClientView) : null;
  const { reload } = query;
  const clientId = client?.id;

  useEffect(() => {
    if (!clientId) return undefined;
    const timer = window.setInterval(reload, REFRESH_MS);
    const stop = subscribe(CLIENT_UPDATED, { id: clientId }, () => reload());
    return () => {
      window.clearInterval(timer);
      stop();
    };
  }, [clientId, reload]);

  if (session.loading) return <Loading />;
  if (!isClient) {
    return (
      <section className="card narrow">
        <h1>{t('dash.signInTitle')}</h1>
        <p>{t('dash.signInHint')}</p>
        <PhoneLogin role="client" onSignedIn={session.reload} />
        <p>
          <Link to="/signup">{t('dash.newHere')}</Link>
        </p>
      </section>
    );
  }
  if (query.loading && !client) return <Loading />;
  if (!client) return <ErrorMessage error={query.error} onRetry={reload} />;
  return (
    <>
      <h1>{client.name}</h1>
      <ErrorMessage error={query.error} onRetry={reload} />
      <div className="grid">
        <section className="card" aria-labelledby="plan-h">
          <h2 id="plan-h">{t('dash.planTitle')}</h2>
          <PlanStatus client={client} />
          {client.subscription ? <ChangePlan sub={client.subscription} onChanged={reload} /> : null}
          {client.subscription ? <KeepPlan sub={client.subscription} onKept={reload} /> : null}
        </section>
        <section className="card" aria-labelledby="subs-h">
          <h2 id="subs-h">{t('dash.subscribers')}</h2>
          <p className="stat">
            <span className="value" data-testid="subscriber-count">
              {formatNumber(client.subscriberCount, locale)}
            </span>
            <span className="label">{t('dash.activeSubscribers', { count: client.subscriberCount })}</span>
          </p>
        </section>
      </div>
      <JoinLink slug={client.slug} />
      <Composer onSent={reload} timeZone={client.timeZone} />
      <AnnounceBySms subscribers={client.subscriberCount} />
      <Keyword client={client} onChanged={reload} />
      <TimeZone client={client} onChanged={reload} />
      <QuietHours client={client} onChanged={reload} />
      <History announcements={client.announcements} />
    </>
  );
}
