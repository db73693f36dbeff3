/** Admin sign-in: a one-time code to an admin's phone, or the organisation's OIDC login. */
import { OIDC_LOGIN_PATH } from '@nudges/shared/auth';
import { useI18n } from '@nudges/shared/i18n';
import { Notice, PhoneLogin } from '@nudges/shared/ui';

export function Login({ onSignedIn, notAdmin }: { onSignedIn: () => void; notAdmin: boolean }) {
  const { t } = useI18n();
  return (
    <section className="card narrow">
      <h1>{t('adminLogin.title')}</h1>
      <p>{t('adminLogin.intro')}</p>
      {notAdmin ? <Notice tone="warning">{t('adminLogin.notAdmin')}</Notice> : null}
      <PhoneLogin role="admin" onSignedIn={onSignedIn} />
      <hr />
      <h2>{t('adminLogin.oidcTitle')}</h2>
      <p className="hint">{t('adminLogin.oidcHint')}</p>
      <a className="button secondary" href={OIDC_LOGIN_PATH}>
        {t('adminLogin.oidc')}
      </a>
    </section>
  );
}
