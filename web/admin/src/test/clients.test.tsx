import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { Clients } from '../pages/Clients';
import { fakeFetch, operationOf } from './fetch';
import { renderIn } from './render';

const client = (n: number) => ({
  cursor: `c${n}`,
  node: { id: `id-${n}`, name: `Client ${n}`, slug: `client-${n}`, locale: 'en', createdAt: '2026-01-01T00:00:00Z', subscriberCount: n, stripeCustomerId: null },
});

describe('clients', () => {
  it('pages through the cursor connection and back', async () => {
    const calls = fakeFetch(({ body }) => {
      const after = body.variables?.after;
      const first = after ? [21, 22] : Array.from({ length: 20 }, (_, i) => i + 1);
      return {
        json: {
          data: {
            clients: {
              totalCount: 22,
              pageInfo: { hasNextPage: !after, endCursor: after ? 'c22' : 'c20' },
              edges: first.map(client),
            },
          },
        },
      };
    });
    renderIn(<Clients />);
    expect(await screen.findByText('Client 1')).toBeTruthy();
    expect(screen.getByText('1–20 of 22')).toBeTruthy();
    const previous = screen.getByRole('button', { name: 'Previous' }) as HTMLButtonElement;
    expect(previous.disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('Client 22')).toBeTruthy();
    expect(screen.getByText('21–22 of 22')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
    expect(calls.map((c) => c.body.variables?.after)).toEqual([null, 'c20']);
    fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
    expect(await screen.findByText('Client 1')).toBeTruthy();
    expect(operationOf(calls[0]!)).toBe('Clients');
  });

  it('searches from the first page and says when nothing matches', async () => {
    const calls = fakeFetch(({ body }) => ({
      json: {
        data: {
          clients: body.variables?.search
            ? { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] }
            : { totalCount: 1, pageInfo: { hasNextPage: false, endCursor: 'c1' }, edges: [client(1)] },
        },
      },
    }));
    renderIn(<Clients />);
    await screen.findByText('Client 1');
    fireEvent.change(screen.getByLabelText('Search by name or address'), { target: { value: 'zebra' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(await screen.findByText('No client matches “zebra”.')).toBeTruthy();
    await waitFor(() => expect(calls[calls.length - 1]?.body.variables).toEqual({ first: 20, after: null, search: 'zebra' }));
  });

  it('shows a loading state, then the error in words', async () => {
    fakeFetch(() => ({ json: { data: null, errors: [{ message: 'admins only', extensions: { code: 'FORBIDDEN' } }] } }));
    renderIn(<Clients />);
    expect(screen.getByRole('status').textContent).toBe('Loading…');
    expect((await screen.findByRole('alert')).textContent).toContain('This account is not allowed to do that.');
  });
});
