/** Routing by React Router (declarative mode over the History API). The apps declare their
 * routes with `Routes`/`Route`; `navigate()` also works outside components (after a form). */
import { useEffect, useMemo, type AnchorHTMLAttributes, type ReactNode } from 'react';
import {
  BrowserRouter,
  Link as RouterLink,
  matchPath as matchRoute,
  useLocation as useRouterLocation,
  useNavigate,
  type NavigateFunction,
} from 'react-router';

export { Route, Routes, useParams } from 'react-router';

let active: NavigateFunction | null = null;

/** Hands React Router's navigate function to {@link navigate}. */
function NavigateBridge() {
  const go = useNavigate();
  useEffect(() => {
    active = go;
    return () => {
      if (active === go) active = null;
    };
  }, [go]);
  return null;
}

/** `children` under React Router, for every path (they choose their page with `Routes`). */
export function AppRouter({ children }: { children: ReactNode }) {
  return (
    <BrowserRouter>
      <NavigateBridge />
      {children}
    </BrowserRouter>
  );
}

/** The current path and query string; re-renders on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const { pathname, search } = useRouterLocation();
  const params = useMemo(() => new URLSearchParams(search), [search]);
  return { path: pathname, search: params };
}

/** Goes to `to` inside the app (no reload), at the top of the new page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (active) void active(to, { replace: options.replace ?? false });
  window.scrollTo?.(0, 0);
}

/** The parameters of `pattern` (e.g. `/c/:slug`) in `path`, or null when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const match = matchRoute({ path: pattern, end: true }, path);
  return match ? (match.params as Record<string, string>) : null;
}

/** A link inside the app: an ordinary anchor, so keyboard, middle-click and copy work. */
export function Link({ to, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  return <RouterLink to={to} {...rest} />;
}
