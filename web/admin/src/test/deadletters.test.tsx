import { fireEvent, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { DeadLetters } from '../pages/DeadLetters';
import { fakeFetch, operationOf } from './fetch';
import { renderIn } from './render';

describe('dead letters', () => {
  it('says plainly when the graph has no deadLetters field', async () => {
    fakeFetch(() => ({
      status: 400,
      json: { errors: [{ message: "Cannot query field 'deadLetters' on type 'Query'.", extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
    }));
    renderIn(<DeadLetters />);
    expect(await screen.findByText('Dead letters are not available in the graph yet.')).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('lists dead letters and replays one', async () => {
    const calls = fakeFetch(({ body }) =>
      operationOf({ url: '', body }) === 'ReplayDeadLetter'
        ? { json: { data: { replayDeadLetter: { id: 'd1' } } } }
        : {
            json: {
              data: {
                deadLetters: {
                  totalCount: 1,
                  pageInfo: { hasNextPage: false, endCursor: null },
                  nodes: [
                    {
                      id: 'd1',
                      topic: 'user.clients',
                      partition: 0,
                      offset: 7,
                      key: 'k',
                      consumerGroup: 'stripe-sync',
                      eventId: 'e1',
                      eventType: 'user.client.created',
                      error: 'card declined',
                      errorType: 'CardError',
                      attempts: 5,
                      failedAt: '2026-01-01T00:00:00Z',
                    },
                  ],
                },
              },
            },
          },
    );
    renderIn(<DeadLetters />);
    fireEvent.click(await screen.findByRole('button', { name: 'Replay the event at user.clients offset 7' }));
    expect(await screen.findByText('Replayed')).toBeTruthy();
    expect(calls[1]?.body.variables).toEqual({ id: 'd1' });
  });
});
