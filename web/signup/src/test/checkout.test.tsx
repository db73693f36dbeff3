import { screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { CheckoutSuccess } from '../pages/CheckoutSuccess';
import { fakeFetch, operationOf } from './fetch';
import { renderIn } from './render';

describe('back from checkout', () => {
  it('waits until the plan subscription is active', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    window.history.replaceState(null, '', '/checkout/success?session_id=cs_test_1');
    let polls = 0;
    fakeFetch(({ url, body }) => {
      if (operationOf({ url, body }) === 'SignupViewer') return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'C', slug: 'c' } } } };
      polls += 1;
      const status = polls < 2 ? 'INCOMPLETE' : 'ACTIVE';
      return {
        json: {
          data: {
            viewer: {
              __typename: 'Client',
              id: 'c1',
              subscription: {
                id: 'ps',
                status,
                currentPeriodEnd: null,
                cancelAtPeriodEnd: false,
                pendingChangeAt: null,
                trialEndsAt: null,
                pendingPriceTier: null,
                priceTier: { id: 't', name: 'Monthly', amount: 900, currency: 'usd', interval: 'MONTH', plan: { id: 'p', name: 'Starter' } },
              },
            },
          },
        },
      };
    });
    renderIn(<CheckoutSuccess />);
    expect(await screen.findByText('Waiting for the payment confirmation…')).toBeTruthy();
    expect(screen.getByText('cs_test_1')).toBeTruthy();
    await vi.advanceTimersByTimeAsync(2500);
    expect(await screen.findByText('Starter: $9.00 per month. You can start sending.')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Go to my dashboard' })).toBeTruthy();
    vi.useRealTimers();
  });
});
