/** The building blocks every page uses: data loading, forms, errors, empty states, pages. */
import {
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
  type SelectHTMLAttributes,
} from 'react';

import { requestCode, verifyCode, type Role } from './auth';
import { describeError, fieldErrors } from './errors';
import { Provider, useQuery as useUrqlQuery } from 'urql';

import { apiErrorOf, graphClient, onClientChange } from './graphql';
import { useI18n } from './i18n';
import { getCountries, getCountryCallingCode, type CountryCode } from 'libphonenumber-js';
import { Controller } from 'react-hook-form';
import { z } from 'zod/mini';

import { problems, useSchemaForm } from './form';
import { browserCountry, codeSchema, formatPhone, phoneProblem, toE164 } from './phone';

export interface QueryState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (update: (previous: T | undefined) => T | undefined) => void;
}

/** Gives the pages the page's graph client, and a new one (empty cache) after resetSession(). */
export function GraphProvider({ children }: { children: ReactNode }) {
  const client = useSyncExternalStore(onClientChange, graphClient);
  return <Provider value={client}>{children}</Provider>;
}

/** Runs `query` when it or its variables change (`skip` waits): what the cache holds shows at
 * once, and the network's answer follows (`cache-and-network`); keeps the last data while
 * reloading. `setData` changes the shown data until the next answer. */
export function useQuery<T>(query: string, variables: Record<string, unknown> = {}, skip = false): QueryState<T> {
  const key = JSON.stringify(variables);
  const stable = useMemo(() => JSON.parse(key) as Record<string, unknown>, [key]);
  const [result, reexecute] = useUrqlQuery<T>({ query, variables: stable, pause: skip, requestPolicy: 'cache-and-network' });
  const [local, setLocal] = useState<{ base: T | undefined; data: T | undefined } | null>(null);
  const data = local && local.base === result.data ? local.data : result.data;
  const error = useMemo(() => (result.error ? apiErrorOf(result.error) : null), [result.error]);
  const reload = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  // Stable, so that effects depending on it (subscriptions) are not restarted by each answer.
  const latest = useRef(result.data);
  useEffect(() => {
    latest.current = result.data;
  }, [result.data]);
  const setData = useCallback(
    (update: (previous: T | undefined) => T | undefined) =>
      setLocal((previous) => {
        const base = latest.current;
        const shown = previous && previous.base === base ? previous.data : base;
        return { base, data: update(shown) };
      }),
    [],
  );
  return { data: data ?? undefined, error, loading: !skip && result.fetching, reload, setData };
}

/** One action at a time (a form submit, a button): busy while it runs, the error it ended with. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async <R,>(action: () => Promise<R>): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (cause) {
      setError(cause);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setError(null), []);
  return { busy, error, run, clear };
}

/** The API's error in sentences, announced to screen readers. */
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  const lines = describeError(error, t);
  return (
    <div className="alert" role="alert">
      {lines.map((line) => (
        <p key={line}>{line}</p>
      ))}
      {onRetry ? (
        <button type="button" className="secondary" onClick={onRetry}>
          {t('common.retry')}
        </button>
      ) : null}
    </div>
  );
}

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('common.loading')}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A notice that screen readers read out when it appears. */
export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'success' | 'warning' }) {
  return (
    <div className={`notice ${tone}`} role="status" aria-live="polite">
      {children}
    </div>
  );
}

type FieldProps = {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
};

/** A labelled input with its hint and error tied to it for assistive technology. */
export function TextField({
  label,
  error,
  hint,
  id,
  ...input
}: FieldProps & InputHTMLAttributes<HTMLInputElement> & { ref?: Ref<HTMLInputElement> }) {
  const generated = useId();
  const inputId = id ?? generated;
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={inputId}>{label}</label>
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      <input id={inputId} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SelectField({
  label,
  error,
  hint,
  id,
  children,
  ...select
}: FieldProps & SelectHTMLAttributes<HTMLSelectElement> & { ref?: Ref<HTMLSelectElement> }) {
  const generated = useId();
  const selectId = id ?? generated;
  const errorId = `${selectId}-error`;
  const hintId = `${selectId}-hint`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={selectId}>{label}</label>
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      <select id={selectId} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...select}>
        {children}
      </select>
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Cursor pages: `after` of the current page, and the cursors of the pages before it. */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const next = useCallback((endCursor: string | null) => {
    if (endCursor) setCursors((previous) => [...previous, endCursor]);
  }, []);
  const previous = useCallback(() => setCursors((stack) => (stack.length > 1 ? stack.slice(0, -1) : stack)), []);
  const reset = useCallback(() => setCursors([null]), []);
  return { after, page: cursors.length, hasPrevious: cursors.length > 1, next, previous, reset };
}

/** Previous / next buttons and where the reader is (cursor connections have no page numbers). */
export function Pager({
  pages,
  pageInfo,
  totalCount,
  shown,
  pageSize,
}: {
  pages: ReturnType<typeof useCursorPages>;
  pageInfo: PageInfo | undefined;
  totalCount: number | undefined;
  shown: number;
  pageSize: number;
}) {
  const { t } = useI18n();
  const from = (pages.page - 1) * pageSize + (shown ? 1 : 0);
  const to = (pages.page - 1) * pageSize + shown;
  return (
    <nav className="pager" aria-label={t('pager.label')}>
      <button type="button" className="secondary" onClick={pages.previous} disabled={!pages.hasPrevious}>
        {t('pager.previous')}
      </button>
      <span aria-live="polite">{t('pager.range', { from, to, total: totalCount ?? to })}</span>
      <button
        type="button"
        className="secondary"
        onClick={() => pages.next(pageInfo?.endCursor ?? null)}
        disabled={!pageInfo?.hasNextPage}
      >
        {t('pager.next')}
      </button>
    </nav>
  );
}

const countrySchema = z.object({ country: z.string(), phone: z.string() }).check(
  z.superRefine((value, context) => {
    const problem = phoneProblem(value.phone, (value.country || null) as CountryCode | null);
    if (problem) context.addIssue({ code: 'custom', message: problem, path: ['phone'], input: value.phone });
  }),
);
const codeFormSchema = z.object({ code: codeSchema });

/** Countries by their name in `locale`, with their calling code ("France (+33)"). */
function useCountries(locale: string): { code: CountryCode; name: string }[] {
  return useMemo(() => {
    const names = new Intl.DisplayNames([locale], { type: 'region' });
    return getCountries()
      .map((code) => ({ code, name: `${names.of(code) ?? code} (+${getCountryCallingCode(code)})` }))
      .sort((a, b) => a.name.localeCompare(b.name, locale));
  }, [locale]);
}

/** Country (from the browser's language), phone number formatted as it is typed, then the
 * six-digit code sent to it: signs in with `role`. */
export function PhoneLogin({
  role,
  onSignedIn,
  submitLabel,
}: {
  role: Role;
  onSignedIn: () => void;
  submitLabel?: string;
}) {
  const { t, locale } = useI18n();
  const countries = useCountries(locale);
  const [phone, setPhone] = useState<string | null>(null);
  const [devCode, setDevCode] = useState<string | null>(null);
  const action = useAction();
  const phoneForm = useSchemaForm(countrySchema, { country: browserCountry() ?? '', phone: '' });
  const codeForm = useSchemaForm(codeFormSchema, { code: '' });
  const country = (phoneForm.watch('country') || null) as CountryCode | null;
  const codeRef = useRef<HTMLInputElement | null>(null);

  useEffect(() => {
    if (phone) codeRef.current?.focus();
  }, [phone]);

  const ask = phoneForm.handleSubmit(async (value) => {
    const e164 = toE164(value.phone, (value.country || null) as CountryCode | null) ?? value.phone.trim();
    const sent = await action.run(() => requestCode(e164, role));
    if (sent) {
      setDevCode(sent.code ?? null);
      setPhone(e164);
    }
  });

  const verify = codeForm.handleSubmit(async (value) => {
    const done = await action.run(async () => {
      await verifyCode(phone ?? '', value.code, role);
      return true;
    });
    if (done) onSignedIn();
  });

  const phoneProblems = problems(phoneForm.formState.errors, action.error, t);
  const codeProblems = problems(codeForm.formState.errors, action.error, t);
  const serverFields = fieldErrors(action.error, t);
  const { ref: codeFieldRef, ...codeField } = codeForm.register('code');
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(event) => void (phone ? verify(event) : ask(event))}
    >
      {!phone ? (
        <>
          <SelectField label={t('login.country')} {...phoneForm.register('country', { onChange: () => phoneForm.formState.isSubmitted && void phoneForm.trigger('phone') })}>
            <option value="">{t('login.countryNone')}</option>
            {countries.map((c) => (
              <option key={c.code} value={c.code}>
                {c.name}
              </option>
            ))}
          </SelectField>
          <Controller
            control={phoneForm.control}
            name="phone"
            render={({ field }) => (
              <TextField
                ref={field.ref}
                label={t('login.phone')}
                hint={t('login.phoneHint')}
                type="tel"
                name={field.name}
                autoComplete="tel"
                inputMode="tel"
                value={field.value}
                onBlur={field.onBlur}
                onChange={(e) => field.onChange(formatPhone(e.target.value, country))}
                error={phoneProblems('phone')}
              />
            )}
          />
        </>
      ) : (
        <>
          <p>{t('login.codeSent', { phone })}</p>
          {devCode ? (
            <Notice>
              <span data-testid="dev-code">{t('login.devCode', { code: devCode })}</span>
            </Notice>
          ) : null}
          <TextField
            ref={(element) => {
              codeFieldRef(element);
              codeRef.current = element;
            }}
            label={t('login.code')}
            autoComplete="one-time-code"
            inputMode="numeric"
            maxLength={6}
            {...codeField}
            error={codeProblems('code')}
          />
        </>
      )}
      {Object.keys(serverFields).length ? null : <ErrorMessage error={action.error} />}
      <div className="actions">
        <button type="submit" disabled={action.busy}>
          {action.busy ? t('common.working') : !phone ? t('login.sendCode') : (submitLabel ?? t('login.signIn'))}
        </button>
        {phone ? (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setPhone(null);
              codeForm.reset();
              action.clear();
            }}
          >
            {t('login.otherNumber')}
          </button>
        ) : null}
      </div>
    </form>
  );
}
