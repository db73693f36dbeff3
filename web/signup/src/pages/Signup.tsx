/** A client signs up: phone and code (role client), then their name and address, then a plan. */
import { useEffect, useState } from 'react';
import { z } from 'zod/mini';

import { fieldErrors } from '@nudges/shared/errors';
import { problems, useSchemaForm } from '@nudges/shared/form';
import { gql, resetSession } from '@nudges/shared/graphql';
import { useI18n, LOCALES, type Locale } from '@nudges/shared/i18n';
import { navigate } from '@nudges/shared/router';
import { ErrorMessage, Loading, Notice, PhoneLogin, SelectField, TextField, useAction } from '@nudges/shared/ui';
import { CREATE_CLIENT } from '../operations';
import { slugOf, slugSchema } from '../pricing';
import { useSession } from '../session';

const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', es: 'Español', fr: 'Français', de: 'Deutsch' };

/** What `createClient` accepts; the messages are i18n ids. */
export const profileSchema = z.object({
  name: z.string().check(z.trim(), z.minLength(1, 'validation.required'), z.maxLength(80, 'signup.nameTooLong')),
  slug: slugSchema,
  locale: z.enum(LOCALES),
});

export function ClientProfileForm({ onCreated }: { onCreated: () => void }) {
  const { t, locale } = useI18n();
  const form = useSchemaForm(profileSchema, { name: '', slug: '', locale });
  const action = useAction();
  const address = form.watch('slug');

  const submit = form.handleSubmit(async (value) => {
    const created = await action.run(() => gql(CREATE_CLIENT, { input: value }));
    if (created) onCreated();
  });
  const server = fieldErrors(action.error, t);
  const conflict = action.error && !Object.keys(server).length;
  const problem = problems(form.formState.errors, action.error, t);
  return (
    <form className="stack" noValidate onSubmit={(e) => void submit(e)}>
      <TextField
        label={t('signup.name')}
        hint={t('signup.nameHint')}
        {...form.register('name', {
          // The address follows the name until it is typed in itself.
          onChange: (e: { target: { value: string } }) => {
            if (!form.getFieldState('slug').isDirty) form.setValue('slug', slugOf(e.target.value));
          },
        })}
        error={problem('name')}
      />
      <TextField
        label={t('signup.slug')}
        hint={t('signup.slugHint', { url: `${window.location.origin}/c/${address || '…'}` })}
        {...form.register('slug', {
          onChange: (e: { target: { value: string } }) => form.setValue('slug', e.target.value.toLowerCase(), { shouldDirty: true }),
        })}
        error={problem('slug')}
      />
      <SelectField label={t('signup.language')} hint={t('signup.languageHint')} {...form.register('locale')}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {LANGUAGE_NAMES[l]}
          </option>
        ))}
      </SelectField>
      {conflict ? <ErrorMessage error={action.error} /> : null}
      <div className="actions">
        <button type="submit" disabled={action.busy}>
          {action.busy ? t('common.working') : t('signup.create')}
        </button>
      </div>
    </form>
  );
}

export function Signup() {
  const { t } = useI18n();
  const session = useSession();
  const [justSignedIn, setJustSignedIn] = useState(false);
  const viewer = session.viewer;

  useEffect(() => {
    // A returning client goes straight to their dashboard.
    if (viewer?.__typename === 'Client') navigate('/dashboard', { replace: true });
  }, [viewer]);

  if (session.loading) return <Loading />;
  // A client-role session without a client yet has no viewer: the sign-in just done tells.
  const signedInAsClient = justSignedIn;
  return (
    <section className="card narrow">
      <h1>{t('signup.title')}</h1>
      <ol className="steps" aria-label={t('signup.steps')}>
        <li aria-current={!signedInAsClient ? 'step' : undefined}>{t('signup.step1')}</li>
        <li aria-current={signedInAsClient ? 'step' : undefined}>{t('signup.step2')}</li>
        <li>{t('signup.step3')}</li>
      </ol>
      <ErrorMessage error={session.error} onRetry={session.reload} />
      {!signedInAsClient ? (
        <>
          {viewer?.__typename === 'Subscriber' ? <Notice>{t('signup.subscriberToo')}</Notice> : null}
          <p>{t('signup.intro')}</p>
          <PhoneLogin
            role="client"
            onSignedIn={() => {
              resetSession();
              setJustSignedIn(true);
              session.reload();
            }}
          />
        </>
      ) : (
        <>
          <h2>{t('signup.step2')}</h2>
          <ClientProfileForm
            onCreated={() => {
              session.reload();
              navigate('/plans');
            }}
          />
        </>
      )}
    </section>
  );
}
