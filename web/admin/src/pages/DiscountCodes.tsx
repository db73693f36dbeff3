/** Discount codes: the list (archived ones on request), a new code, archive. */
import { useRef, useState, type FormEvent } from 'react';

import { fieldErrors } from '@nudges/shared/errors';
import { formatDate, formatMoney, toMinorUnits } from '@nudges/shared/format';
import { gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Empty, ErrorMessage, focusFirstInvalid, Loading, Notice, Pager, SelectField, TextField, useAction, useCursorPages, useQuery } from '@nudges/shared/ui';
import { ARCHIVE_DISCOUNT_CODE, CREATE_DISCOUNT_CODE, DISCOUNT_CODES } from '../operations';
import type { Connection, DiscountCode } from '../types';

const PAGE = 20;

export interface DiscountForm {
  code: string;
  kind: 'percent' | 'amount';
  percentOff: string;
  amountOff: string;
  currency: string;
  duration: 'ONCE' | 'REPEATING' | 'FOREVER';
  durationInMonths: string;
  maxRedemptions: string;
  expiresAt: string;
}

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

/** Problems of the form as i18n keys by field; empty when it can be sent. */
export function validateDiscount(form: DiscountForm, today: string = new Date().toISOString().slice(0, 10)): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!form.code.trim()) problems.code = 'validation.required';
  else if (!/^[A-Za-z0-9_-]{3,40}$/.test(form.code.trim())) problems.code = 'discounts.codeInvalid';
  if (form.kind === 'percent') {
    const percent = Number(form.percentOff);
    if (!/^\d+$/.test(form.percentOff.trim()) || percent < 1 || percent > 100) problems.percentOff = 'discounts.percentInvalid';
  } else {
    if (!/^[a-zA-Z]{3}$/.test(form.currency.trim())) problems.currency = 'plan.currencyInvalid';
    const amount = toMinorUnits(form.amountOff, form.currency.trim() || 'usd');
    if (amount === null || amount <= 0) problems.amountOff = 'plan.amountInvalid';
  }
  if (form.duration === 'REPEATING') {
    const months = Number(form.durationInMonths);
    if (!/^\d+$/.test(form.durationInMonths.trim()) || months < 1) problems.durationInMonths = 'discounts.monthsInvalid';
  }
  if (form.maxRedemptions.trim() && (!/^\d+$/.test(form.maxRedemptions.trim()) || Number(form.maxRedemptions) < 1)) {
    problems.maxRedemptions = 'discounts.maxInvalid';
  }
  if (form.expiresAt && form.expiresAt <= today) problems.expiresAt = 'discounts.expiresInvalid';
  return problems;
}

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
  const [form, setForm] = useState<DiscountForm>(EMPTY);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const action = useAction();
  const formRef = useRef<HTMLFormElement>(null);
  const set = <K extends keyof DiscountForm>(key: K, value: DiscountForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = validateDiscount(form);
    setProblems(found);
    if (Object.keys(found).length) {
      focusFirstInvalid(formRef.current);
      return;
    }
    const created = await action.run(() => gql<{ createDiscountCode: { code: string } }>(CREATE_DISCOUNT_CODE, { input: inputOf(form) }));
    if (created) {
      setForm(EMPTY);
      onCreated(created.createDiscountCode.code);
    }
  };
  const server = fieldErrors(action.error, t);
  const problem = (key: string) => (problems[key] ? t(problems[key] ?? '') : server[key]);
  return (
    <form ref={formRef} className="card stack" noValidate onSubmit={(e) => void submit(e)} aria-labelledby="new-code-h">
      <h2 id="new-code-h">{t('discounts.new')}</h2>
      <div className="row">
        <TextField label={t('discounts.code')} name="code" value={form.code} onChange={(e) => set('code', e.target.value)} error={problem('code')} hint={t('discounts.codeHint')} />
        <SelectField label={t('discounts.duration')} value={form.duration} onChange={(e) => set('duration', e.target.value as DiscountForm['duration'])}>
          {(['ONCE', 'REPEATING', 'FOREVER'] as const).map((d) => (
            <option key={d} value={d}>
              {t(`duration.${d}`)}
            </option>
          ))}
        </SelectField>
        {form.duration === 'REPEATING' ? (
          <TextField
            label={t('discounts.months')}
            name="durationInMonths"
            inputMode="numeric"
            value={form.durationInMonths}
            onChange={(e) => set('durationInMonths', e.target.value)}
            error={problem('durationInMonths')}
          />
        ) : null}
      </div>
      <fieldset>
        <legend>{t('discounts.kind')}</legend>
        <label className="check">
          <input type="radio" name="kind" checked={form.kind === 'percent'} onChange={() => set('kind', 'percent')} />
          {t('discounts.percent')}
        </label>
        <label className="check">
          <input type="radio" name="kind" checked={form.kind === 'amount'} onChange={() => set('kind', 'amount')} />
          {t('discounts.amount')}
        </label>
        <div className="row">
          {form.kind === 'percent' ? (
            <TextField label={t('discounts.percentOff')} name="percentOff" inputMode="numeric" value={form.percentOff} onChange={(e) => set('percentOff', e.target.value)} error={problem('percentOff')} />
          ) : (
            <>
              <TextField label={t('discounts.amountOff')} name="amountOff" inputMode="decimal" value={form.amountOff} onChange={(e) => set('amountOff', e.target.value)} error={problem('amountOff')} />
              <TextField label={t('plan.currency')} name="currency" maxLength={3} value={form.currency} onChange={(e) => set('currency', e.target.value)} error={problem('currency')} />
            </>
          )}
        </div>
      </fieldset>
      <div className="row">
        <TextField label={t('discounts.maxRedemptions')} name="maxRedemptions" inputMode="numeric" value={form.maxRedemptions} onChange={(e) => set('maxRedemptions', e.target.value)} error={problem('maxRedemptions')} hint={t('discounts.optional')} />
        <TextField label={t('discounts.expiresAt')} name="expiresAt" type="date" value={form.expiresAt} onChange={(e) => set('expiresAt', e.target.value)} error={problem('expiresAt')} hint={t('discounts.optional')} />
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
