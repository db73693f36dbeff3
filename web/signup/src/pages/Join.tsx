/** A client's public page `/c/{slug}`: a subscriber joins with their phone and a code. */
import { useState } from 'react';

import { resetSession, gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { Empty, ErrorMessage, Loading, Notice, PhoneLogin, useAction, useQuery } from '@nudges/shared/ui';
import { CLIENT_BY_SLUG, JOIN_CLIENT } from '../operations';
import { useSession } from '../session';

export function Join({ slug }: { slug: string }) {
  const { t } = useI18n();
  const session = useSession();
  const page = useQuery<{ clientBySlug: { id: string; name: string; slug: string } | null }>(CLIENT_BY_SLUG, { slug });
  const join = useAction();
  const [joined, setJoined] = useState(false);
  const client = page.data?.clientBySlug;

  const joinNow = async () => {
    const done = await join.run(() => gql(JOIN_CLIENT, { slug }));
    if (done) {
      setJoined(true);
      session.reload();
    }
  };

  if (page.loading && !page.data) return <Loading />;
  if (page.error) return <ErrorMessage error={page.error} onRetry={page.reload} />;
  if (!client) {
    return (
      <section className="card narrow">
        <h1>{t('join.notFoundTitle')}</h1>
        <Empty>{t('join.notFound', { slug })}</Empty>
      </section>
    );
  }
  const subscriber = session.viewer?.__typename === 'Subscriber' ? session.viewer : null;
  return (
    <section className="card narrow stack">
      <h1>{t('join.title', { name: client.name })}</h1>
      {joined ? (
        <>
          <Notice tone="success">
            <p data-testid="joined">{t('join.done', { name: client.name })}</p>
            <p>{t('join.stopHint')}</p>
          </Notice>
          <Link to="/me">{t('join.seeAll')}</Link>
        </>
      ) : (
        <>
          <p>{t('join.intro', { name: client.name })}</p>
          <p className="hint">{t('join.consent')}</p>
          <ErrorMessage error={join.error} />
          {subscriber ? (
            <div className="actions">
              <button type="button" onClick={() => void joinNow()} disabled={join.busy}>
                {t('join.asMe', { phone: subscriber.phoneMasked })}
              </button>
            </div>
          ) : (
            <PhoneLogin
              role="subscriber"
              submitLabel={t('join.submit', { name: client.name })}
              onSignedIn={() => {
                resetSession();
                void joinNow();
              }}
            />
          )}
        </>
      )}
    </section>
  );
}
