/** Create or edit a plan: its features, a weekly / monthly / yearly price, archive and reactivate. */
import { useEffect, useRef, useState } from 'react';
import { z } from 'zod/mini';

import { fieldErrors } from '@nudges/shared/errors';
import { problems, useSchemaForm } from '@nudges/shared/form';
import { formatDateTime, formatMoney, fromMinorUnits, toMinorUnits } from '@nudges/shared/format';
import { gql, subscribe } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link, navigate } from '@nudges/shared/router';
import { ErrorMessage, Loading, Notice, SelectField, TextField, useAction, useQuery } from '@nudges/shared/ui';
import {
  ARCHIVE_PLAN,
  ARCHIVE_PRICE_TIER,
  REACTIVATE_PLAN,
  CREATE_PLAN,
  CREATE_PRICE_TIER,
  PLAN,
  PLAN_UPDATED,
  UPDATE_PLAN,
  UPDATE_PRICE_TIER,
} from '../operations';
import { INTERVALS, MAX_TRIAL_DAYS, offeredTiers, tierChanges } from '../plans';
import type { Interval, Plan } from '../types';

/** The editor's fields, as typed. */
export type PlanForm = z.input<typeof planSchema>;

const EMPTY: PlanForm = {
  name: '',
  description: '',
  iconUrl: '',
  messagesPerPeriod: '1000',
  supportTier: 'BASIC',
  aiAssist: false,
  currency: 'usd',
  amounts: { WEEK: '', MONTH: '', YEAR: '' },
  trials: { WEEK: '', MONTH: '', YEAR: '' },
};

function formOf(plan: Plan): PlanForm {
  const offered = offeredTiers(plan.tiers);
  const currency = Object.values(offered)[0]?.currency ?? 'usd';
  const amount = (i: Interval) => {
    const tier = offered[i];
    return tier ? fromMinorUnits(tier.amount, tier.currency) : '';
  };
  // No trial is shown as an empty field, as a new tier starts.
  const trial = (i: Interval) => (offered[i]?.trialDays ? String(offered[i].trialDays) : '');
  return {
    name: plan.name,
    description: plan.description,
    iconUrl: plan.iconUrl ?? '',
    messagesPerPeriod: String(plan.features?.messagesPerPeriod ?? 0),
    supportTier: plan.features?.supportTier ?? 'BASIC',
    aiAssist: plan.features?.aiAssist ?? false,
    currency,
    amounts: { WEEK: amount('WEEK'), MONTH: amount('MONTH'), YEAR: amount('YEAR') },
    trials: { WEEK: trial('WEEK'), MONTH: trial('MONTH'), YEAR: trial('YEAR') },
  };
}

const trimmed = () => z.string().check(z.trim());
const trialDays = () =>
  trimmed().check(z.refine((days) => !days || (/^\d+$/.test(days) && Number(days) <= MAX_TRIAL_DAYS), 'plan.trialInvalid'));

/** What the API accepts of a plan; the messages are i18n ids. */
export const planSchema = z
  .object({
    name: trimmed().check(z.minLength(1, 'validation.required'), z.maxLength(100, 'plan.nameTooLong')),
    description: trimmed(),
    iconUrl: trimmed().check(z.refine((url) => !url || /^https?:\/\/\S+$/.test(url), 'plan.iconUrlInvalid')),
    messagesPerPeriod: trimmed().check(z.regex(/^\d+$/, 'plan.messagesInvalid')),
    supportTier: z.enum(['BASIC', 'STANDARD', 'PREMIUM']),
    aiAssist: z.boolean(),
    currency: trimmed().check(z.regex(/^[a-zA-Z]{3}$/, 'plan.currencyInvalid')),
    amounts: z.object({ WEEK: trimmed(), MONTH: trimmed(), YEAR: trimmed() }),
    // Days of free trial a checkout starts with: empty is none, else 0 to MAX_TRIAL_DAYS.
    trials: z.object({ WEEK: trialDays(), MONTH: trialDays(), YEAR: trialDays() }),
  })
  .check(
    z.superRefine((form, context) => {
      // An amount must fit its currency's decimals (9.50 dollars, 950 yen).
      for (const interval of INTERVALS) {
        const text = form.amounts[interval];
        if (text && toMinorUnits(text, form.currency || 'usd') === null) {
          context.addIssue({ code: 'custom', message: 'plan.amountInvalid', path: ['amounts', interval], input: text });
        }
      }
    }),
  );

const TIER_NAMES: Record<Interval, string> = { WEEK: 'Weekly', MONTH: 'Monthly', YEAR: 'Yearly' };

export function PlanEditor({ id }: { id?: string | undefined }) {
  const { t, locale } = useI18n();
  const query = useQuery<{ plan: Plan }>(PLAN, { id }, !id);
  const form = useSchemaForm(planSchema, EMPTY);
  const [saved, setSaved] = useState(false);
  const [confirmArchive, setConfirmArchive] = useState(false);
  const save = useAction();
  const archive = useAction();
  const plan = query.data?.plan;
  const loadedId = useRef<string | null>(null);

  useEffect(() => {
    // Fill the form once per plan; later pushes must not overwrite what is being typed.
    if (plan && loadedId.current !== plan.id) {
      loadedId.current = plan.id;
      form.reset(formOf(plan));
    }
  }, [plan, form]);

  const { reload } = query;
  useEffect(() => (id ? subscribe(PLAN_UPDATED, { id }, () => reload()) : undefined), [id, reload]);

  // Stripe's ids may arrive before the subscription is open (a new plan gets them within a
  // second): until every one is shown, ask again every few seconds.
  const waitingForStripe =
    !!plan && (!plan.stripeProductId || plan.tiers.some((tier) => !tier.stripePriceId));
  useEffect(() => {
    if (!waitingForStripe) return undefined;
    const timer = window.setInterval(() => reload(), 2000);
    return () => window.clearInterval(timer);
  }, [waitingForStripe, reload]);

  // Any change hides the last "Saved." notice.
  const field = (name: Parameters<typeof form.register>[0]) => form.register(name, { onChange: () => setSaved(false) });

  const submit = form.handleSubmit(async (value) => {
    const currency = value.currency.toLowerCase();
    const features = {
      messagesPerPeriod: Number(value.messagesPerPeriod),
      supportTier: value.supportTier,
      aiAssist: value.aiAssist,
    };
    const details = { name: value.name, description: value.description, iconUrl: value.iconUrl || null, features };
    const wanted = Object.fromEntries(
      INTERVALS.map((i) => [i, value.amounts[i] ? toMinorUnits(value.amounts[i], currency) : null]),
    ) as Record<Interval, number | null>;
    const trials = Object.fromEntries(INTERVALS.map((i) => [i, Number(value.trials[i] || 0)])) as Record<Interval, number>;
    const planId = await save.run(async () => {
      let target = id;
      if (!target) {
        const created = await gql<{ createPlan: { id: string } }>(CREATE_PLAN, { input: details });
        target = created.createPlan.id;
      } else {
        await gql(UPDATE_PLAN, { id: target, input: details });
      }
      for (const change of tierChanges(plan?.tiers ?? [], wanted, currency, trials)) {
        if (change.kind === 'create') {
          await gql(CREATE_PRICE_TIER, {
            planId: target,
            input: {
              name: TIER_NAMES[change.interval],
              amount: change.amount,
              currency,
              interval: change.interval,
              trialDays: change.trialDays,
            },
          });
        } else if (change.kind === 'update') {
          await gql(UPDATE_PRICE_TIER, {
            id: change.id,
            input: { amount: change.amount, currency, trialDays: change.trialDays },
          });
        } else {
          await gql(ARCHIVE_PRICE_TIER, { id: change.id });
        }
      }
      return target;
    });
    if (planId) {
      setSaved(true);
      if (!id) navigate(`/plans/${planId}`, { replace: true });
      else query.reload();
    }
  });

  const archivePlan = async () => {
    if (!id) return;
    const done = await archive.run(() => gql(ARCHIVE_PLAN, { id }));
    setConfirmArchive(false);
    if (done) query.reload();
  };

  const reactivatePlan = async () => {
    if (!id) return;
    const done = await archive.run(() => gql(REACTIVATE_PLAN, { id }));
    if (done) query.reload();
  };

  const archiveTier = async (tierId: string) => {
    const done = await archive.run(() => gql(ARCHIVE_PRICE_TIER, { id: tierId }));
    if (done) query.reload();
  };

  if (id && query.loading && !plan) return <Loading />;
  if (id && query.error && !plan) return <ErrorMessage error={query.error} onRetry={query.reload} />;

  const problem = problems(form.formState.errors, save.error, t);
  const serverFields = Object.keys(fieldErrors(save.error, t));
  return (
    <>
      <p>
        <Link to="/plans">{t('plan.back')}</Link>
      </p>
      <h1>{id ? t('plan.editTitle', { name: plan?.name ?? '' }) : t('plan.newTitle')}</h1>
      {plan && !plan.active ? <Notice tone="warning">{t('plan.isArchived')}</Notice> : null}
      {saved ? <Notice tone="success">{t('plan.saved')}</Notice> : null}
      <form className="card stack" noValidate onSubmit={(e) => void submit(e)}>
        <TextField label={t('plan.name')} {...field('name')} error={problem('name')} required />
        <div className="field">
          <label htmlFor="plan-description">{t('plan.description')}</label>
          <textarea id="plan-description" rows={3} {...field('description')} />
        </div>
        <TextField
          label={t('plan.iconUrl')}
          type="url"
          {...field('iconUrl')}
          error={problem('iconUrl')}
          hint={t('plan.iconUrlHint')}
        />
        <fieldset>
          <legend>{t('plan.features')}</legend>
          <div className="row">
            <TextField
              label={t('plan.messagesPerPeriod')}
              inputMode="numeric"
              {...field('messagesPerPeriod')}
              error={problem('messagesPerPeriod')}
            />
            <SelectField label={t('plan.supportTier')} {...field('supportTier')}>
              {(['BASIC', 'STANDARD', 'PREMIUM'] as const).map((s) => (
                <option key={s} value={s}>
                  {t(`support.${s}`)}
                </option>
              ))}
            </SelectField>
          </div>
          <label className="check">
            <input type="checkbox" {...field('aiAssist')} />
            {t('plan.aiAssist')}
          </label>
        </fieldset>
        <fieldset>
          <legend>{t('plan.prices')}</legend>
          <p className="hint">{t('plan.pricesHint')}</p>
          <div className="row">
            <TextField
              label={t('plan.currency')}
              maxLength={3}
              {...field('currency')}
              error={problem('currency')}
            />
            {INTERVALS.map((i) => (
              <TextField
                key={i}
                label={t(`interval.${i}`)}
                inputMode="decimal"
                {...field(`amounts.${i}`)}
                error={problem(`amounts.${i}`)}
              />
            ))}
          </div>
          <p className="hint">{t('plan.trialsHint', { max: MAX_TRIAL_DAYS })}</p>
          <div className="row">
            {INTERVALS.map((i) => (
              <TextField
                key={i}
                label={t('plan.trialDaysOf', { interval: t(`interval.${i}`) })}
                inputMode="numeric"
                {...field(`trials.${i}`)}
                error={problem(`trials.${i}`)}
              />
            ))}
          </div>
        </fieldset>
        {serverFields.length ? null : <ErrorMessage error={save.error} />}
        <div className="actions">
          <button type="submit" disabled={save.busy}>
            {save.busy ? t('common.working') : id ? t('common.save') : t('plan.create')}
          </button>
        </div>
      </form>

      {plan ? (
        <>
          <section className="card" aria-labelledby="stripe-h">
            <h2 id="stripe-h">{t('plan.stripe')}</h2>
            <dl className="facts">
              <dt>{t('plans.stripeProduct')}</dt>
              <dd>{plan.stripeProductId ? <code>{plan.stripeProductId}</code> : t('plans.stripePending')}</dd>
              <dt>{t('plan.updatedAt')}</dt>
              <dd>{formatDateTime(plan.updatedAt, locale)}</dd>
            </dl>
          </section>
          <section className="card" aria-labelledby="tiers-h">
            <h2 id="tiers-h">{t('plan.tiers')}</h2>
            <ErrorMessage error={archive.error} />
            <div className="table-wrap">
              <table className="responsive">
                <thead>
                  <tr>
                    <th scope="col">{t('plan.tierName')}</th>
                    <th scope="col">{t('plan.interval')}</th>
                    <th scope="col">{t('field.amount')}</th>
                    <th scope="col">{t('plan.trial')}</th>
                    <th scope="col">{t('plan.version')}</th>
                    <th scope="col">{t('plans.status')}</th>
                    <th scope="col">{t('plan.stripePrice')}</th>
                    <th scope="col">
                      <span className="visually-hidden">{t('plan.actions')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {plan.tiers.map((tier) => (
                    <tr key={tier.id}>
                      <td data-label={t('plan.tierName')}>{tier.name}</td>
                      <td data-label={t('plan.interval')}>{t(`interval.${tier.interval}`)}</td>
                      <td data-label={t('field.amount')}>{formatMoney(tier.amount, tier.currency, locale)}</td>
                      <td data-label={t('plan.trial')}>
                        {tier.trialDays ? t('plan.trialDays', { count: tier.trialDays }) : t('plan.noTrial')}
                      </td>
                      <td data-label={t('plan.version')}>{tier.version}</td>
                      <td data-label={t('plans.status')}>
                        <span className={`badge ${tier.status === 'ACTIVE' ? 'ok' : 'neutral'}`}>{t(`tierStatus.${tier.status}`)}</span>
                      </td>
                      <td data-label={t('plan.stripePrice')}>
                        {tier.stripePriceId ? <code>{tier.stripePriceId}</code> : <span className="hint">{t('plans.stripePending')}</span>}
                      </td>
                      <td>
                        {tier.status === 'ACTIVE' ? (
                          <button
                            type="button"
                            className="danger"
                            disabled={archive.busy}
                            onClick={() => void archiveTier(tier.id)}
                            aria-label={t('plan.archiveTierNamed', { name: tier.name })}
                          >
                            {t('plan.archiveTier')}
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          {plan.active ? (
            <section className="card" aria-labelledby="archive-h">
              <h2 id="archive-h">{t('plan.archiveTitle')}</h2>
              <p>{t('plan.archiveHint')}</p>
              {confirmArchive ? (
                <div className="actions" role="group" aria-label={t('plan.archiveConfirm')}>
                  <p>{t('plan.archiveConfirm')}</p>
                  <button type="button" className="danger" onClick={() => void archivePlan()} disabled={archive.busy}>
                    {t('plan.archiveYes')}
                  </button>
                  <button type="button" className="secondary" onClick={() => setConfirmArchive(false)}>
                    {t('common.cancel')}
                  </button>
                </div>
              ) : (
                <button type="button" className="danger" onClick={() => setConfirmArchive(true)}>
                  {t('plan.archive')}
                </button>
              )}
            </section>
          ) : (
            <section className="card" aria-labelledby="reactivate-h">
              <h2 id="reactivate-h">{t('plan.reactivateTitle')}</h2>
              <p>{t('plan.reactivateHint')}</p>
              <button type="button" onClick={() => void reactivatePlan()} disabled={archive.busy}>
                {t('plan.reactivate')}
              </button>
            </section>
          )}
        </>
      ) : null}
    </>
  );
}
