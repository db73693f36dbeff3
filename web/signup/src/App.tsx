/** The Signup UI: the public pages, a client's sign-up and dashboard, a subscriber's pages. */
import { useEffect, useRef } from 'react';

import { signOut } from '@nudges/shared/auth';
import { resetSession } from '@nudges/shared/graphql';
import { LanguageSwitcher, useI18n } from '@nudges/shared/i18n';
import { Link, navigate, Route, Routes, useLocation, useParams } from '@nudges/shared/router';
import { CheckoutSuccess } from './pages/CheckoutSuccess';
import { Dashboard } from './pages/Dashboard';
import { Join } from './pages/Join';
import { Landing } from './pages/Landing';
import { Memberships } from './pages/Memberships';
import { ChoosePlan } from './pages/ChoosePlan';
import { Signup } from './pages/Signup';
import { useSession } from './session';

function Page() {
  return (
    <Routes>
      <Route path="/" element={<Landing />} />
      <Route path="/signup" element={<Signup />} />
      <Route path="/plans" element={<ChoosePlan />} />
      <Route path="/checkout/success" element={<CheckoutSuccess />} />
      <Route path="/dashboard" element={<Dashboard />} />
      <Route path="/me" element={<Memberships />} />
      <Route path="/c/:slug" element={<JoinAt />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}

function JoinAt() {
  return <Join slug={useParams().slug ?? ''} />;
}

function NotFound() {
  const { t } = useI18n();
  return (
    <section className="card">
      <h1>{t('nav.notFound')}</h1>
      <Link to="/">{t('nav.home')}</Link>
    </section>
  );
}

export function App() {
  const { t } = useI18n();
  const { path } = useLocation();
  const session = useSession();
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

  const leave = async () => {
    try {
      await signOut();
    } catch {
      // Forgotten here either way; the server revokes what it still knows.
    }
    resetSession();
    session.reload();
    navigate('/');
  };

  const links: [string, string][] = [
    ['/', 'nav.home'],
    [session.viewer?.__typename === 'Client' ? '/dashboard' : '/signup', session.viewer?.__typename === 'Client' ? 'nav.dashboard' : 'nav.forCreators'],
    ['/plans', 'nav.plans'],
    ['/me', 'nav.mySubscriptions'],
  ];
  return (
    <>
      <a className="skip-link" href="#main">
        {t('common.skipToContent')}
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Nudges
        </Link>
        <div className="tools">
          <LanguageSwitcher />
          {session.viewer ? (
            <button type="button" className="secondary" onClick={() => void leave()}>
              {t('common.signOut')}
            </button>
          ) : null}
        </div>
      </header>
      <nav className="main" aria-label={t('nav.label')}>
        <ul>
          {links.map(([to, key]) => (
            <li key={key}>
              <Link to={to} aria-current={path === to ? 'page' : undefined}>
                {t(key)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <Page />
      </main>
    </>
  );
}
