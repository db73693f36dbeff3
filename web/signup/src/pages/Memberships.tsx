/** A subscriber's page: every client they follow, with a button to leave each. */
import { formatDate } from '@nudges/shared/format';
import { gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Link } from '@nudges/shared/router';
import { Empty, ErrorMessage, Loading, PhoneLogin, useAction, useQuery } from '@nudges/shared/ui';
import { LEAVE_CLIENT, MY_MEMBERSHIPS } from '../operations';
import { useSession } from '../session';
import type { Membership } from '../types';

type Mine = { viewer: { __typename: string; phoneMasked?: string; memberships?: Membership[] } | null };

export function Memberships() {
  const { t, locale } = useI18n();
  const session = useSession();
  const isSubscriber = session.viewer?.__typename === 'Subscriber';
  const query = useQuery<Mine>(MY_MEMBERSHIPS, {}, !isSubscriber);
  const leave = useAction();
  const memberships = query.data?.viewer?.memberships ?? [];

  if (session.loading) return <Loading />;
  if (!isSubscriber) {
    return (
      <section className="card narrow">
        <h1>{t('me.title')}</h1>
        <p>{t('me.signIn')}</p>
        <PhoneLogin role="subscriber" onSignedIn={session.reload} />
      </section>
    );
  }
  const sorted = [...memberships].sort((a, b) => (a.status === b.status ? 0 : a.status === 'ACTIVE' ? -1 : 1));
  return (
    <>
      <h1>{t('me.title')}</h1>
      <p>{t('me.number', { phone: query.data?.viewer?.phoneMasked ?? '' })}</p>
      <ErrorMessage error={query.error ?? leave.error} onRetry={query.error ? query.reload : undefined} />
      {query.loading && !query.data ? <Loading /> : null}
      {query.data && !memberships.length ? <Empty>{t('me.none')}</Empty> : null}
      {sorted.length ? (
        <ul className="stack" style={{ listStyle: 'none', padding: 0 }}>
          {sorted.map((m) => (
            <li key={m.id} className="card spread">
              <div>
                <h2>{m.client?.name ?? '—'}</h2>
                <p className="hint">
                  {m.status === 'ACTIVE'
                    ? t('me.since', { date: formatDate(m.joinedAt, locale) })
                    : t('me.stopped', { date: formatDate(m.stoppedAt, locale) })}
                </p>
              </div>
              {m.status === 'ACTIVE' && m.client ? (
                <button
                  type="button"
                  className="danger"
                  disabled={leave.busy}
                  aria-label={t('me.leaveNamed', { name: m.client.name })}
                  onClick={() =>
                    void leave.run(async () => {
                      await gql(LEAVE_CLIENT, { clientId: m.client?.id });
                      query.reload();
                    })
                  }
                >
                  {t('me.leave')}
                </button>
              ) : m.client ? (
                <Link to={`/c/${m.client.slug}`}>{t('me.rejoin')}</Link>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
