/** Who is signed in (the `viewer`), shared by every page; reloaded after sign-in and sign-out. */
import { createContext, useContext, type ReactNode } from 'react';

import { ApiError } from '@nudges/shared/errors';
import { useQuery } from '@nudges/shared/ui';
import { VIEWER } from './operations';
import type { Viewer } from './types';

interface Session {
  viewer: Viewer | null;
  loading: boolean;
  error: unknown;
  reload: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const query = useQuery<{ viewer: Viewer | null }>(VIEWER);
  const expired = query.error instanceof ApiError && query.error.has('UNAUTHENTICATED');
  const value: Session = {
    viewer: expired ? null : (query.data?.viewer ?? null),
    loading: query.loading && !query.data,
    error: expired ? null : query.error,
    reload: query.reload,
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const found = useContext(SessionContext);
  if (!found) throw new Error('useSession outside SessionProvider');
  return found;
}
