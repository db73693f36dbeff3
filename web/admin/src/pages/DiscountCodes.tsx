/** Discount codes: the list (archived ones on request), a new code, archive. */
import { useMemo, useState } from 'react';
import { z } from 'zod/mini';

import { fieldErrors } from '@nudges/shared/errors';
import { problems, useSchemaForm } from '@nudges/shared/form';
import { formatDate, formatMoney, toMinorUnits } from '@nudges/shared/format';
import { gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Empty, ErrorMessage, Loading, Notice, Pager, SelectField, TextField, useAction, useCursorPages, useQuery } from '@nudges/shared/ui';
import { ARCHIVE_DISCOUNT_CODE, CREATE_DISCOUNT_CODE, DISCOUNT_CODES } from '../operations';
import type { Connection, DiscountCode } from '../types';

const PAGE = 20;

const trimmed = () => z.string().check(z.trim());
const whole = /^\d+$/;

/** What the API accepts of a discount code; the messages are i18n ids. */
export function discountSchema(today: string = new Date().toISOString().slice(0, 10)) {
  return z
    .object({
      code: trimmed().check(z.minLength(1, 'validation.required'), z.regex(/^[A-Za-z0-9_-]{3,40}$/, 'discounts.codeInvalid')),
      kind: z.enum(['percent', 'amount']),
      percentOff: trimmed(),
      amountOff: trimmed(),
      currency: trimmed(),
      duration: z.enum(['ONCE', 'REPEATING', 'FOREVER']),
      durationInMonths: trimmed(),
      maxRedemptions: trimmed().check(z.refine((max) => !max || (whole.test(max) && Number(max) >= 1), 'discounts.maxInvalid')),
      expiresAt: z.string().check(z.refine((day) => !day || day > today, 'discounts.expiresInvalid')),
    })
    .check(
      // Which fields count depends on the kind of discount and its duration.
      z.superRefine((form, context) => {
        const issue = (field: string, message: string) =>
          context.addIssue({ code: 'custom', message, path: [field], input: form[field as keyof typeof form] });
        if (form.kind === 'percent') {
          if (!whole.test(form.percentOff) || Number(form.percentOff) < 1 || Number(form.percentOff) > 100) issue('percentOff', 'discounts.percentInvalid');
        } else {
          if (!/^[a-zA-Z]{3}$/.test(form.currency)) issue('currency', 'plan.currencyInvalid');
          const amount = toMinorUnits(form.amountOff, form.currency || 'usd');
          if (amount === null || amount <= 0) issue('amountOff', 'plan.amountInvalid');
        }
        if (form.duration === 'REPEATING' && (!whole.test(form.durationInMonths) || Number(form.durationInMonths) < 1)) {
          issue('durationInMonths', 'discounts.monthsInvalid');
        }
      }),
    );
}

/** The new-code form's fields, as typed. */
export type DiscountForm = z.input<ReturnType<typeof discountSchema>>;

const EMPTY: DiscountForm = {
  code: '',
  kind: 'percent',
  percentOff: '',
  amountOff: '',
  currency: 'usd',
  duration: 'ONCE',
  durationInMonths: '',
  maxRedemptions: '',
  expiresAt: '',
};

function inputOf(form: DiscountForm) {
  const currency = form.currency.trim().toLowerCase();
  return {
    code: form.code.trim().toUpperCase(),
    percentOff: form.kind === 'percent' ? Number(form.percentOff) : null,
    amountOff: form.kind === 'amount' ? toMinorUnits(form.amountOff, currency) : null,
    currency: form.kind === 'amount' ? currency : null,
    duration: form.duration,
    durationInMonths: form.duration === 'REPEATING' ? Number(form.durationInMonths) : null,
    maxRedemptions: form.maxRedemptions.trim() ? Number(form.maxRedemptions) : null,
    // The end of the chosen day, in the admin's time zone.
    expiresAt: form.expiresAt ? new Date(`${form.expiresAt}T23:59:59`).toISOString() : null,
  };
}

function NewCode({ onCreated }: { onCreated: (code: string) => void }) {
  const { t } = useI18n();
  const schema = useMemo(() => discountSchema(), []);
  const form = useSchemaForm(schema, EMPTY);
  const action = useAction();
  const kind = form.watch('kind');
  const duration = form.watch('duration');
  const submit = form.handleSubmit(async (value) => {
    const created = await action.run(() => gql<{ createDiscountCode: { code: string } }>(CREATE_DISCOUNT_CODE, { input: inputOf(value) }));
    if (created) {
      form.reset(EMPTY);
      onCreated(created.createDiscountCode.code);
    }
  });
  const problem = problems(form.formState.errors, action.error, t);
  const server = fieldErrors(action.error, t);
  return (
    <form className="card stack" noValidate onSubmit={(e) => void submit(e)} aria-labelledby="new-code-h">
      <h2 id="new-code-h">{t('discounts.new')}</h2>
      <div className="row">
        <TextField label={t('discounts.code')} {...form.register('code')} error={problem('code')} hint={t('discounts.codeHint')} />
        <SelectField label={t('discounts.duration')} {...form.register('duration')}>
          {(['ONCE', 'REPEATING', 'FOREVER'] as const).map((d) => (
            <option key={d} value={d}>
              {t(`duration.${d}`)}
            </option>
          ))}
        </SelectField>
        {duration === 'REPEATING' ? (
          <TextField
            label={t('discounts.months')}
            inputMode="numeric"
            {...form.register('durationInMonths')}
            error={problem('durationInMonths')}
          />
        ) : null}
      </div>
      <fieldset>
        <legend>{t('discounts.kind')}</legend>
        <label className="check">
          <input type="radio" value="percent" {...form.register('kind')} />
          {t('discounts.percent')}
        </label>
        <label className="check">
          <input type="radio" value="amount" {...form.register('kind')} />
          {t('discounts.amount')}
        </label>
        <div className="row">
          {kind === 'percent' ? (
            <TextField label={t('discounts.percentOff')} inputMode="numeric" {...form.register('percentOff')} error={problem('percentOff')} />
          ) : (
            <>
              <TextField label={t('discounts.amountOff')} inputMode="decimal" {...form.register('amountOff')} error={problem('amountOff')} />
              <TextField label={t('plan.currency')} maxLength={3} {...form.register('currency')} error={problem('currency')} />
            </>
          )}
        </div>
      </fieldset>
      <div className="row">
        <TextField label={t('discounts.maxRedemptions')} inputMode="numeric" {...form.register('maxRedemptions')} error={problem('maxRedemptions')} hint={t('discounts.optional')} />
        <TextField label={t('discounts.expiresAt')} type="date" {...form.register('expiresAt')} error={problem('expiresAt')} hint={t('discounts.optional')} />
      </div>
      {Object.keys(server).length ? null : <ErrorMessage error={action.error} />}
      <div className="actions">
        <button type="submit" disabled={action.busy}>
          {action.busy ? t('common.working') : t('discounts.create')}
        </button>
      </div>
    </form>
  );
}

export function DiscountCodes() {
  const { t, locale } = useI18n();
  const [includeArchived, setIncludeArchived] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const pages = useCursorPages();
  const query = useQuery<{ discountCodes: Connection<DiscountCode> }>(DISCOUNT_CODES, { first: PAGE, after: pages.after, includeArchived });
  const archive = useAction();
  const codes = query.data?.discountCodes;
  const off = (c: DiscountCode) =>
    c.percentOff !== null ? `${c.percentOff}%` : c.amountOff !== null ? formatMoney(c.amountOff, c.currency ?? 'usd', locale) : '—';
  return (
    <>
      <h1>{t('nav.discounts')}</h1>
      {created ? <Notice tone="success">{t('discounts.created', { code: created })}</Notice> : null}
      <NewCode
        onCreated={(code) => {
          setCreated(code);
          pages.reset();
          query.reload();
        }}
      />
      <section className="card" aria-labelledby="codes-h">
        <div className="spread">
          <h2 id="codes-h">{t('discounts.list')}</h2>
          <label className="check">
            <input
              type="checkbox"
              checked={includeArchived}
              onChange={(e) => {
                setIncludeArchived(e.target.checked);
                pages.reset();
              }}
            />
            {t('discounts.showArchived')}
          </label>
        </div>
        <ErrorMessage error={query.error ?? archive.error} onRetry={query.error ? query.reload : undefined} />
        {query.loading && !codes ? <Loading /> : null}
        {codes && !codes.nodes.length ? <Empty>{t('discounts.empty')}</Empty> : null}
        {codes?.nodes.length ? (
          <div className="table-wrap">
            <table className="responsive">
              <thead>
                <tr>
                  <th scope="col">{t('discounts.code')}</th>
                  <th scope="col">{t('discounts.off')}</th>
                  <th scope="col">{t('discounts.duration')}</th>
                  <th scope="col">{t('discounts.maxRedemptions')}</th>
                  <th scope="col">{t('discounts.expiresAt')}</th>
                  <th scope="col">{t('discounts.stripe')}</th>
                  <th scope="col">{t('plans.status')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('plan.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {codes.nodes.map((c) => (
                  <tr key={c.id}>
                    <td data-label={t('discounts.code')}>
                      <code>{c.code}</code>
                    </td>
                    <td data-label={t('discounts.off')}>{off(c)}</td>
                    <td data-label={t('discounts.duration')}>
                      {t(`duration.${c.duration}`)}
                      {c.durationInMonths ? ` (${t('discounts.monthsCount', { count: c.durationInMonths })})` : ''}
                    </td>
                    <td data-label={t('discounts.maxRedemptions')}>{c.maxRedemptions ?? '—'}</td>
                    <td data-label={t('discounts.expiresAt')}>{formatDate(c.expiresAt, locale)}</td>
                    <td data-label={t('discounts.stripe')}>
                      {c.stripePromotionCodeId ? <code>{c.stripePromotionCodeId}</code> : <span className="hint">{t('plans.stripePending')}</span>}
                    </td>
                    <td data-label={t('plans.status')}>
                      <span className={`badge ${c.active ? 'ok' : 'neutral'}`}>{c.active ? t('plans.active') : t('plans.archived')}</span>
                    </td>
                    <td>
                      {c.active ? (
                        <button
                          type="button"
                          className="danger"
                          disabled={archive.busy}
                          aria-label={t('discounts.archiveNamed', { code: c.code })}
                          onClick={() =>
                            void archive.run(async () => {
                              await gql(ARCHIVE_DISCOUNT_CODE, { id: c.id });
                              query.reload();
                            })
                          }
                        >
                          {t('plan.archive')}
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {codes ? <Pager pages={pages} pageInfo={codes.pageInfo} totalCount={codes.totalCount} shown={codes.nodes.length} pageSize={PAGE} /> : null}
      </section>
    </>
  );
}
