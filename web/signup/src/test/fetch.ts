/** A fake `fetch` for component tests: answers /graphql and /auth from a handler. */
import { withTypenames } from '@nudges/shared/testing';
import { vi } from 'vitest';

export interface Sent {
  url: string;
  body: { query?: string; variables?: Record<string, unknown> } & Record<string, unknown>;
}

export type Answer = { status?: number; headers?: Record<string, string>; json: unknown };

export function fakeFetch(handler: (sent: Sent) => Answer | Promise<Answer>) {
  const calls: Sent[] = [];
  const mock = vi.fn(async (url: string, init?: RequestInit) => {
    const sent: Sent = { url, body: init?.body ? (JSON.parse(String(init.body)) as Sent['body']) : {} };
    calls.push(sent);
    const answer = await handler(sent);
    // As the gateway answers: every object names its type (the normalized cache needs it).
    const json = answer.json as { data?: unknown } | null;
    const body =
      sent.body.query && json && typeof json === 'object' && 'data' in json
        ? { ...json, data: withTypenames(sent.body.query, json.data) }
        : answer.json;
    return new Response(JSON.stringify(body), {
      status: answer.status ?? 200,
      headers: { 'content-type': 'application/json', ...(answer.headers ?? {}) },
    });
  });
  vi.stubGlobal('fetch', mock);
  return calls;
}

/** The operation name of a sent GraphQL document. */
export function operationOf(sent: Sent): string {
  return /(?:query|mutation|subscription)\s+(\w+)/.exec(sent.body.query ?? '')?.[1] ?? '';
}
