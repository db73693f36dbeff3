/** The one way the UI talks to the graph: urql with a normalized cache (Graphcache), queries
 * and mutations as POST /graphql, subscriptions over graphql-transport-ws (graphql-ws) on the
 * same path, so that what a mutation or a subscription returns updates every page showing the
 * same object. The TokenId cookie carries the session. */
import { Client as UrqlClient, fetchExchange, subscriptionExchange, type CombinedError, type OperationResult } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient, type Client } from 'graphql-ws';

import { ApiError, codeOfStatus, retryAfterSeconds, type ApiProblem } from './errors';

export const GRAPHQL_PATH = '/graphql';

interface GraphQLErrorShape {
  message?: string;
  extensions?: { code?: string; field?: string };
}

function problemOf(error: GraphQLErrorShape): ApiProblem {
  return {
    code: error.extensions?.code ?? 'UNKNOWN',
    message: error.message ?? '',
    ...(error.extensions?.field ? { field: error.extensions.field } : {}),
  };
}

/** The graph's error as an {@link ApiError}: its GraphQL errors, else the HTTP status. */
export function apiErrorOf(error: CombinedError): ApiError {
  const response = error.response as Response | undefined;
  if (error.graphQLErrors.length) {
    return new ApiError(
      error.graphQLErrors.map((e) => problemOf({ message: e.message, extensions: e.extensions as GraphQLErrorShape['extensions'] })),
      response?.status,
    );
  }
  if (response && typeof response.status === 'number' && !response.ok) {
    const retryAfter = retryAfterSeconds(response.headers?.get('retry-after') ?? null);
    return new ApiError(
      [
        {
          code: codeOfStatus(response.status),
          message: `HTTP ${response.status}`,
          ...(retryAfter !== undefined ? { retryAfter } : {}),
        },
      ],
      response.status,
    );
  }
  return new ApiError([{ code: 'NETWORK', message: String(error.networkError ?? error.message) }]);
}

/** Types without an `id`: Graphcache keeps them inside their parent instead of normalizing. */
const KEYLESS = new Set([
  'ActivityDay',
  'Allowance',
  'AnnouncementPreview',
  'LocaleCopy',
  'Money',
  'PageInfo',
  'PaymentRevenue',
  'PaymentTotals',
  'PlanFeatures',
  'ProductTotals',
  'UserTotals',
]);
const keys = new Proxy({} as Record<string, () => null>, {
  get: (_, name) => (typeof name === 'string' && (KEYLESS.has(name) || /(Connection|Edge)$/.test(name)) ? () => null : undefined),
});

let socket: Client | null = null;

function socketUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${GRAPHQL_PATH}`;
}

function socketClient(): Client {
  if (!socket) {
    socket = createClient({
      url: socketUrl(),
      lazy: true,
      retryAttempts: 20,
      shouldRetry: () => true,
    });
  }
  return socket;
}

/** A new urql client: Graphcache, then HTTP for queries and mutations, the WebSocket for
 * subscriptions. */
export function createGraphClient(): UrqlClient {
  return new UrqlClient({
    url: GRAPHQL_PATH,
    preferGetMethod: false,
    fetchOptions: {
      credentials: 'same-origin',
      headers: { accept: 'application/graphql-response+json, application/json' },
    },
    exchanges: [
      cacheExchange({ keys }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: socketClient().subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
}

let current: UrqlClient | null = null;
const listeners = new Set<() => void>();

/** The client of this page (made on first use; a new one after {@link resetSession}). */
export function graphClient(): UrqlClient {
  current ??= createGraphClient();
  return current;
}

/** Calls `listener` whenever {@link resetSession} replaces the client; returns the unsubscribe. */
export function onClientChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** After signing in or out: closes the WebSocket (a new one carries the new cookie) and drops
 * the cache, so that nothing of the previous session shows. */
export function resetSession(): void {
  socket?.dispose();
  socket = null;
  current = null;
  listeners.forEach((listener) => listener());
}

/** `data` of a result, or the {@link ApiError} it ended with. */
export function dataOf<T>(result: OperationResult<T>): T {
  if (result.error) throw apiErrorOf(result.error);
  if (result.data === undefined || result.data === null) {
    throw new ApiError([{ code: 'UNKNOWN', message: 'no data' }]);
  }
  return result.data;
}

/** Runs one query (from the network, then into the cache) or mutation; resolves with `data`,
 * or rejects with an {@link ApiError}. */
export async function gql<T>(
  query: string,
  variables?: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<T> {
  const client = graphClient();
  const isMutation = /^\s*mutation\b/.test(query.replace(/#[^\n]*/g, ''));
  const source = isMutation
    ? client.mutation<T>(query, variables ?? {})
    : client.query<T>(query, variables ?? {}, { requestPolicy: 'network-only' });
  const result = await new Promise<OperationResult<T>>((resolve, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    source.toPromise().then(resolve, reject);
  });
  return dataOf(result);
}

/** Subscribes to one operation; returns the function that ends the subscription. What it
 * pushes goes through the cache, so pages showing the same objects update too. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onError?: (error: ApiError) => void,
): () => void {
  const { unsubscribe } = graphClient()
    .subscription<T>(query, variables)
    .subscribe((result) => {
      if (result.error) onError?.(apiErrorOf(result.error));
      else if (result.data) onData(result.data);
    });
  return unsubscribe;
}
