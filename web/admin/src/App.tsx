/** The Admin UI: sign-in gate, navigation, and the page of the current path. */
import { useEffect, useRef, type ReactNode } from 'react';

import { signOut } from '@nudges/shared/auth';
import { ApiError } from '@nudges/shared/errors';
import { resetSession } from '@nudges/shared/graphql';
import { LanguageSwitcher, useI18n } from '@nudges/shared/i18n';
import { Link, navigate, Route, Routes, useLocation, useParams } from '@nudges/shared/router';
import { ErrorMessage, Loading, useQuery } from '@nudges/shared/ui';
import { VIEWER } from './operations';
import { Announcements } from './pages/Announcements';
import { ClientDetail } from './pages/ClientDetail';
import { Clients } from './pages/Clients';
import { Dashboard } from './pages/Dashboard';
import { DeadLetters } from './pages/DeadLetters';
import { DiscountCodes } from './pages/DiscountCodes';
import { Login } from './pages/Login';
import { PlanEditor } from './pages/PlanEditor';
import { Plans } from './pages/Plans';
import { Subscribers } from './pages/Subscribers';

const SECTIONS = [
  ['/', 'nav.dashboard'],
  ['/plans', 'nav.plans'],
  ['/discounts', 'nav.discounts'],
  ['/clients', 'nav.clients'],
  ['/subscribers', 'nav.subscribers'],
  ['/announcements', 'nav.announcements'],
  ['/dead-letters', 'nav.deadLetters'],
] as const;

function Page() {
  return (
    <Routes>
      <Route path="/" element={<Dashboard />} />
      <Route path="/plans" element={<Plans />} />
      <Route path="/plans/:id" element={<PlanAt />} />
      <Route path="/discounts" element={<DiscountCodes />} />
      <Route path="/clients" element={<Clients />} />
      <Route path="/clients/:id" element={<ClientAt />} />
      <Route path="/subscribers" element={<Subscribers />} />
      <Route path="/announcements" element={<Announcements />} />
      <Route path="/dead-letters" element={<DeadLetters />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}

/** `/plans/new` and `/plans/:id` are one route, so that the editor (and its "Saved." notice)
 * stays when a new plan's address replaces `/plans/new`. */
function PlanAt() {
  const { id } = useParams();
  return <PlanEditor id={id === 'new' ? undefined : id} />;
}

function ClientAt() {
  return <ClientDetail id={useParams().id ?? ''} />;
}

function NotFound() {
  const { t } = useI18n();
  return (
    <section className="card">
      <h1>{t('nav.notFound')}</h1>
      <Link to="/">{t('nav.dashboard')}</Link>
    </section>
  );
}

function Shell({ children, signedIn, onSignOut }: { children: ReactNode; signedIn: boolean; onSignOut?: () => void }) {
  const { t } = useI18n();
  const { path } = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    // Moving focus to the new page tells screen-reader users that it changed.
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus();
  }, [path]);
  const section = (to: string) => (to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`));
  return (
    <>
      <a className="skip-link" href="#main">
        {t('common.skipToContent')}
      </a>
      <header className="top">
        <span className="brand">{t('app.title')}</span>
        <div className="tools">
          <LanguageSwitcher />
          {signedIn ? (
            <button type="button" className="secondary" onClick={onSignOut}>
              {t('common.signOut')}
            </button>
          ) : null}
        </div>
      </header>
      {signedIn ? (
        <nav className="main" aria-label={t('nav.label')}>
          <ul>
            {SECTIONS.map(([to, key]) => (
              <li key={to}>
                <Link to={to} aria-current={section(to) ? 'page' : undefined}>
                  {t(key)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <main id="main" ref={mainRef} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

export function App() {
  const { t } = useI18n();
  const session = useQuery<{ viewer: { __typename: string } | null }>(VIEWER);

  const leave = async () => {
    try {
      await signOut();
    } catch {
      // The session is forgotten here either way; the server revokes what it still knows.
    }
    resetSession();
    navigate('/', { replace: true });
    session.reload();
  };

  if (session.loading && !session.data) {
    return (
      <Shell signedIn={false}>
        <Loading />
      </Shell>
    );
  }
  const expired = session.error instanceof ApiError && session.error.has('UNAUTHENTICATED');
  if (session.error && !expired) {
    return (
      <Shell signedIn={false}>
        <h1>{t('app.title')}</h1>
        <ErrorMessage error={session.error} onRetry={session.reload} />
      </Shell>
    );
  }
  const viewer = expired ? null : (session.data?.viewer ?? null);
  if (viewer?.__typename !== 'Admin') {
    return (
      <Shell signedIn={false}>
        <Login
          notAdmin={viewer !== null}
          onSignedIn={() => {
            resetSession();
            session.reload();
          }}
        />
      </Shell>
    );
  }
  return (
    <Shell signedIn onSignOut={() => void leave()}>
      <Page />
    </Shell>
  );
}
