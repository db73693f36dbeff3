/** The one way the UI talks to the graph: POST /graphql, and subscriptions over
 * graphql-transport-ws on the same path. The TokenId cookie carries the session. */
import { createClient, type Client } from 'graphql-ws';

import { ApiError, codeOfStatus, retryAfterSeconds, type ApiProblem } from './errors';

export const GRAPHQL_PATH = '/graphql';

interface GraphQLErrorShape {
  message?: string;
  extensions?: { code?: string; field?: string };
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

function problemOf(error: GraphQLErrorShape): ApiProblem {
  return {
    code: error.extensions?.code ?? 'UNKNOWN',
    message: error.message ?? '',
    ...(error.extensions?.field ? { field: error.extensions.field } : {}),
  };
}

/** Runs one operation; resolves with `data`, or rejects with an {@link ApiError}. */
export async function gql<T>(
  query: string,
  variables?: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
      },
      body: JSON.stringify({ query, variables: variables ?? {} }),
      signal,
    });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new ApiError([{ code: 'NETWORK', message: String(cause) }]);
  }
  let body: GraphQLResponse<T> | undefined;
  try {
    body = (await response.json()) as GraphQLResponse<T>;
  } catch {
    body = undefined;
  }
  if (body?.errors?.length) {
    throw new ApiError(body.errors.map(problemOf), response.status);
  }
  if (!response.ok || !body || body.data === undefined || body.data === null) {
    const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
    throw new ApiError(
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
  return body.data;
}

let socket: Client | null = null;

function socketUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${GRAPHQL_PATH}`;
}

function client(): Client {
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

/** Closes the shared WebSocket, e.g. after signing out so a new one carries the new cookie. */
export function resetSubscriptions(): void {
  socket?.dispose();
  socket = null;
}

/** Subscribes to one operation; returns the function that ends the subscription. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onError?: (error: ApiError) => void,
): () => void {
  return client().subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors?.length) {
          onError?.(new ApiError(result.errors.map((e) => problemOf(e as GraphQLErrorShape))));
        } else if (result.data) {
          onData(result.data as T);
        }
      },
      error: (cause) => {
        if (Array.isArray(cause)) {
          onError?.(new ApiError(cause.map((e) => problemOf(e as GraphQLErrorShape))));
        } else {
          onError?.(new ApiError([{ code: 'NETWORK', message: String(cause) }]));
        }
      },
      complete: () => undefined,
    },
  );
}
