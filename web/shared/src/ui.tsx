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
import { codeProblem, formatPhone, phoneProblem, toE164 } from './phone';

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
}: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
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

/** Focuses the first invalid input of `form` (after a failed submit). */
export function focusFirstInvalid(form: HTMLFormElement | null): void {
  window.setTimeout(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0);
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

/** Phone number, then the six-digit code sent to it: signs in with `role`. */
export function PhoneLogin({
  role,
  onSignedIn,
  submitLabel,
}: {
  role: Role;
  onSignedIn: () => void;
  submitLabel?: string;
}) {
  const { t } = useI18n();
  const [step, setStep] = useState<'phone' | 'code'>('phone');
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [devCode, setDevCode] = useState<string | null>(null);
  const action = useAction();
  const formRef = useRef<HTMLFormElement>(null);
  const codeRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (step === 'code') codeRef.current?.focus();
  }, [step]);

  const ask = async () => {
    const problem = phoneProblem(phone);
    if (problem) {
      setProblems({ phone: t(problem) });
      focusFirstInvalid(formRef.current);
      return;
    }
    setProblems({});
    const sent = await action.run(() => requestCode(toE164(phone) ?? phone.trim(), role));
    if (sent) {
      setDevCode(sent.code ?? null);
      setStep('code');
    }
  };

  const verify = async () => {
    const problem = codeProblem(code);
    if (problem) {
      setProblems({ code: t(problem) });
      focusFirstInvalid(formRef.current);
      return;
    }
    setProblems({});
    const done = await action.run(async () => {
      await verifyCode(toE164(phone) ?? phone.trim(), code.trim(), role);
      return true;
    });
    if (done) onSignedIn();
  };

  const serverFields = fieldErrors(action.error, t);
  return (
    <form
      ref={formRef}
      className="stack"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void (step === 'phone' ? ask() : verify());
      }}
    >
      {step === 'phone' ? (
        <TextField
          label={t('login.phone')}
          hint={t('login.phoneHint')}
          type="tel"
          name="phone"
          autoComplete="tel"
          inputMode="tel"
          value={phone}
          onChange={(e) => setPhone(formatPhone(e.target.value))}
          error={problems.phone ?? serverFields.phone}
        />
      ) : (
        <>
          <p>{t('login.codeSent', { phone: toE164(phone) ?? phone })}</p>
          {devCode ? (
            <Notice>
              <span data-testid="dev-code">{t('login.devCode', { code: devCode })}</span>
            </Notice>
          ) : null}
          <TextField
            ref={codeRef}
            label={t('login.code')}
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            maxLength={6}
            value={code}
            onChange={(e) => setCode(e.target.value)}
            error={problems.code ?? serverFields.code}
          />
        </>
      )}
      {Object.keys(serverFields).length ? null : <ErrorMessage error={action.error} />}
      <div className="actions">
        <button type="submit" disabled={action.busy}>
          {action.busy
            ? t('common.working')
            : step === 'phone'
              ? t('login.sendCode')
              : (submitLabel ?? t('login.signIn'))}
        </button>
        {step === 'code' ? (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setStep('phone');
              setCode('');
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
