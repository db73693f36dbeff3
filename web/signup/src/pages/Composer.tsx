/** The client's composer: write an announcement, see each language's copy with its SMS
 * segments, the total and what the plan has left (as the SMS dialogue quotes a draft), then
 * send it now (once per draft, however often the button is pressed) or schedule it in the
 * client's time zone; scheduled announcements are listed in that zone and can be cancelled
 * until they start, and those refused at their time are listed for a week with the reason. */
import { useEffect, useState } from 'react';
import * as z from 'zod/mini';

import { problems, useSchemaForm } from '@nudges/shared/form';
import { formatNumber } from '@nudges/shared/format';
import { gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Empty, ErrorMessage, Notice, TextField, useAction, useQuery } from '@nudges/shared/ui';
import {
  CANCEL_SCHEDULED_ANNOUNCEMENT,
  PREVIEW_ANNOUNCEMENT,
  SCHEDULE_ANNOUNCEMENT,
  SCHEDULED_ANNOUNCEMENTS,
  SEND_ANNOUNCEMENT,
} from '../operations';
import type { AnnouncementPreview, ScheduledAnnouncement } from '../types';

/** How long typing pauses before the preview is asked for. */
export const PREVIEW_DELAY_MS = 400;

/** What `sendAnnouncement` and `scheduleAnnouncement` accept; the messages are i18n ids. */
export const composeSchema = z.object({
  text: z.string().check(z.trim(), z.minLength(1, 'validation.required'), z.maxLength(1600, 'compose.tooLong')),
  sendAt: z.string(),
});

/** The browser's IANA time zone: the client's when their setting and number give none. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A new draft's key: "Send now" creates one announcement per key. */
function draftKey(): string {
  return crypto.randomUUID();
}

function useDebounced(value: string, delay: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delay);
    return () => window.clearTimeout(timer);
  }, [value, delay]);
  return settled;
}

function languageName(code: string, locale: string): string {
  try {
    return new Intl.DisplayNames([locale], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

function formatIn(iso: string, timeZone: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso));
}

function Preview({ preview }: { preview: AnnouncementPreview }) {
  const { t, locale } = useI18n();
  const n = (v: number) => formatNumber(v, locale);
  return (
    <div className="stack" data-testid="compose-preview">
      <p data-testid="compose-audience">{t('compose.audience', { count: preview.recipients })}</p>
      <ul className="copies">
        {preview.copies.map((copy) => (
          <li key={copy.locale} data-testid={`copy-${copy.locale}`}>
            <strong lang={copy.locale}>{languageName(copy.locale, locale)}</strong>{' '}
            <span>{t('compose.copyFacts', { recipients: copy.recipients, segments: copy.segments })}</span>
            <pre className="sms" lang={copy.locale}>
              {copy.text}
            </pre>
          </li>
        ))}
      </ul>
      <p>
        <span data-testid="compose-total">{t('compose.total', { total: preview.totalSegments })}</span>
        {' · '}
        <span data-testid="compose-left">{t('compose.allowanceLeft', { count: preview.allowanceLeft, left: n(preview.allowanceLeft) })}</span>
      </p>
      {preview.refusal ? (
        <Notice tone="warning">{t(`compose.refusal.${preview.refusal}`, { max: n(preview.maxCharacters) })}</Notice>
      ) : null}
    </div>
  );
}

function Scheduled({ items, timeZone, onChanged }: { items: ScheduledAnnouncement[]; timeZone: string; onChanged: () => void }) {
  const { t, locale } = useI18n();
  const cancel = useAction();
  return (
    <div className="stack">
      <h3>{t('compose.scheduledTitle')}</h3>
      {items.length ? (
        <ul data-testid="scheduled-list">
          {items.map((item) => (
            <li key={item.id} data-testid={`scheduled-${item.id}`}>
              <span>{formatIn(String(item.sendAt), timeZone, locale)}</span> <span className="hint">({timeZone})</span> — {item.body}{' '}
              {item.status === 'REFUSED' ? (
                <>
                  <span className="badge warn">{t('compose.refusedBadge')}</span>{' '}
                  {item.refusal ? (
                    <span className="hint" data-testid="scheduled-refusal">
                      {t(`compose.refused.${item.refusal}`)}
                    </span>
                  ) : null}
                </>
              ) : (
                <button
                  type="button"
                  className="secondary"
                  disabled={cancel.busy}
                  onClick={() => {
                    void cancel.run(async () => {
                      await gql(CANCEL_SCHEDULED_ANNOUNCEMENT, { id: item.id });
                      onChanged();
                    });
                  }}
                >
                  {t('compose.cancel')}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>{t('compose.noScheduled')}</Empty>
      )}
      <ErrorMessage error={cancel.error} />
    </div>
  );
}

/** `timeZone`: the client's (the dashboard's `timeZone`); by default the browser's. */
export function Composer({ onSent, timeZone = browserTimeZone() }: { onSent?: () => void; timeZone?: string }) {
  const { t } = useI18n();
  const form = useSchemaForm(composeSchema, { text: '', sendAt: '' });
  const text = form.watch('text');
  const settled = useDebounced(text.trim(), PREVIEW_DELAY_MS);
  const preview = useQuery<{ previewAnnouncement: AnnouncementPreview }>(PREVIEW_ANNOUNCEMENT, { text: settled }, !settled);
  const scheduled = useQuery<{ scheduledAnnouncements: ScheduledAnnouncement[] }>(SCHEDULED_ANNOUNCEMENTS);
  const action = useAction();
  const [key, setKey] = useState(draftKey);
  const [done, setDone] = useState<string | null>(null);

  // Another text is another draft: its own key.
  useEffect(() => setKey(draftKey()), [text]);

  const finish = (message: string) => {
    setDone(message);
    form.reset({ text: '', sendAt: '' });
    setKey(draftKey());
  };

  const sendNow = form.handleSubmit(async (value) => {
    setDone(null);
    const sent = await action.run(() =>
      gql<{ sendAnnouncement: { recipients: number } }>(SEND_ANNOUNCEMENT, { text: value.text, idempotencyKey: key }),
    );
    if (sent) {
      finish(t('compose.sent', { count: sent.sendAnnouncement.recipients }));
      onSent?.();
    }
  });

  const schedule = form.handleSubmit(async (value) => {
    setDone(null);
    if (!value.sendAt) {
      form.setError('sendAt', { message: 'compose.whenRequired' }, { shouldFocus: true });
      return;
    }
    const created = await action.run(() =>
      gql<{ scheduleAnnouncement: ScheduledAnnouncement }>(SCHEDULE_ANNOUNCEMENT, { text: value.text, sendAt: value.sendAt, timeZone }),
    );
    if (created) {
      finish(t('compose.scheduled'));
      scheduled.reload();
    }
  });

  const problem = problems(form.formState.errors, action.error, t);
  const current = settled && preview.data?.previewAnnouncement;
  const blocked = Boolean(current && current.refusal);
  return (
    <section className="card" aria-labelledby="compose-h">
      <h2 id="compose-h">{t('compose.title')}</h2>
      <form className="stack" noValidate onSubmit={(e) => void sendNow(e)}>
        <div className={`field${problem('text') ? ' invalid' : ''}`}>
          <label htmlFor="compose-text">{t('compose.text')}</label>
          <p className="hint" id="compose-text-hint">
            {t('compose.textHint')}
          </p>
          <textarea id="compose-text" rows={4} aria-describedby="compose-text-hint" aria-invalid={problem('text') ? true : undefined} {...form.register('text')} />
          {problem('text') ? <p className="field-error">{problem('text')}</p> : null}
        </div>
        {current ? <Preview preview={current} /> : null}
        <ErrorMessage error={preview.error} onRetry={preview.reload} />
        <TextField
          type="datetime-local"
          label={t('compose.when')}
          hint={t('compose.whenHint', { zone: timeZone })}
          {...form.register('sendAt')}
          error={problem('sendAt')}
        />
        <ErrorMessage error={action.error} />
        {done ? <Notice tone="success">{done}</Notice> : null}
        <div className="actions">
          <button type="submit" disabled={action.busy || blocked} data-testid="send-now">
            {action.busy ? t('common.working') : t('compose.sendNow')}
          </button>
          <button type="button" className="secondary" disabled={action.busy || blocked} onClick={(e) => void schedule(e)} data-testid="schedule">
            {t('compose.schedule')}
          </button>
        </div>
      </form>
      <Scheduled items={scheduled.data?.scheduledAnnouncements ?? []} timeZone={timeZone} onChanged={scheduled.reload} />
    </section>
  );
}
