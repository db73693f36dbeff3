/** A client signs up: phone and code (role client), then their name and address, then a plan. */
import { useEffect, useRef, useState, type FormEvent } from 'react';

import { fieldErrors } from '@nudges/shared/errors';
import { gql, resetSession } from '@nudges/shared/graphql';
import { useI18n, LOCALES, type Locale } from '@nudges/shared/i18n';
import { navigate } from '@nudges/shared/router';
import { ErrorMessage, focusFirstInvalid, Loading, Notice, PhoneLogin, SelectField, TextField, useAction } from '@nudges/shared/ui';
import { CREATE_CLIENT } from '../operations';
import { slugOf, slugProblem } from '../pricing';
import { useSession } from '../session';

const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', es: 'Español', fr: 'Français', de: 'Deutsch' };

export function ClientProfileForm({ onCreated }: { onCreated: () => void }) {
  const { t, locale } = useI18n();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugTouched, setSlugTouched] = useState(false);
  const [language, setLanguage] = useState<Locale>(locale);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const action = useAction();
  const formRef = useRef<HTMLFormElement>(null);
  const address = slugTouched ? slug : slugOf(name);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = 'validation.required';
    else if (name.trim().length > 80) found.name = 'signup.nameTooLong';
    const bad = slugProblem(address);
    if (bad) found.slug = bad;
    setProblems(found);
    if (Object.keys(found).length) {
      focusFirstInvalid(formRef.current);
      return;
    }
    const created = await action.run(() => gql(CREATE_CLIENT, { input: { name: name.trim(), slug: address.trim(), locale: language } }));
    if (created) onCreated();
  };
  const server = fieldErrors(action.error, t);
  const conflict = action.error && !Object.keys(server).length;
  const problem = (key: string) => (problems[key] ? t(problems[key] ?? '') : server[key]);
  return (
    <form ref={formRef} className="stack" noValidate onSubmit={(e) => void submit(e)}>
      <TextField label={t('signup.name')} hint={t('signup.nameHint')} name="name" value={name} onChange={(e) => setName(e.target.value)} error={problem('name')} />
      <TextField
        label={t('signup.slug')}
        hint={t('signup.slugHint', { url: `${window.location.origin}/c/${address || '…'}` })}
        name="slug"
        value={address}
        onChange={(e) => {
          setSlugTouched(true);
          setSlug(e.target.value.toLowerCase());
        }}
        error={problem('slug')}
      />
      <SelectField label={t('signup.language')} hint={t('signup.languageHint')} value={language} onChange={(e) => setLanguage(e.target.value as Locale)}>
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
