import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { ClientDetail } from '../pages/ClientDetail';
import { fakeFetch } from './fetch';
import { renderIn } from './render';

function clientWith(quietHours: boolean, timeZone: string | null = null) {
  fakeFetch(() => ({
    json: {
      data: {
        client: {
          id: 'c1',
          name: 'Night Owl Radio',
          slug: 'night-owl-radio',
          locale: 'en',
          createdAt: '2026-01-01T00:00:00Z',
          stripeCustomerId: null,
          subscriberCount: 2,
          quietHours,
          timeZone: timeZone ?? 'America/Los_Angeles',
          timeZoneSet: timeZone !== null,
          subscription: null,
          announcements: {
            totalCount: 1,
            nodes: [
              {
                id: 'a1',
                body: 'Live until 3 am',
                status: 'SENDING',
                recipients: 2,
                sent: 1,
                delivered: 1,
                failed: 0,
                held: 1,
                createdAt: '2026-07-01T05:00:00Z',
                confirmedAt: '2026-07-01T05:00:00Z',
                completedAt: null,
              },
            ],
          },
        },
      },
    },
  }));
}

describe('client detail', () => {
  it('shows whether the client keeps quiet hours, and the copies held for them', async () => {
    clientWith(true);
    renderIn(<ClientDetail id="c1" />);
    expect((await screen.findByTestId('quiet-hours')).textContent).toBe('On: nothing sent 9 pm–8 am subscriber time');
    const held = screen.getByRole('columnheader', { name: 'Waiting (quiet hours)' });
    expect(held).toBeTruthy();
    const row = screen.getByText('Live until 3 am').closest('tr');
    expect(row?.querySelector('[data-label="Waiting (quiet hours)"]')?.textContent).toBe('1');
  });

  it("shows the client's time zone, and whether it is the automatic one", async () => {
    clientWith(true);
    renderIn(<ClientDetail id="c1" />);
    expect((await screen.findByTestId('time-zone')).textContent).toBe("America/Los_Angeles (automatic: the client's number)");
  });

  it('shows a time zone the client chose as it is', async () => {
    clientWith(true, 'Europe/Paris');
    renderIn(<ClientDetail id="c1" />);
    expect((await screen.findByTestId('time-zone')).textContent).toBe('Europe/Paris');
  });

  it('says when the client turned quiet hours off', async () => {
    clientWith(false);
    renderIn(<ClientDetail id="c1" />);
    expect((await screen.findByTestId('quiet-hours')).textContent).toBe('Off');
  });
});
