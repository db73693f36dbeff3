import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { Join } from '../pages/Join';
import { Memberships } from '../pages/Memberships';
import { fakeFetch, operationOf } from './fetch';
import { renderIn } from './render';

describe('joining a client', () => {
  it('signs in as a subscriber and joins', async () => {
    let signedIn = false;
    const calls = fakeFetch(({ url, body }) => {
      if (url === '/auth/otp') return { status: 202, json: { sent: true, expires_in: 300, code: '222333' } };
      if (url === '/auth/otp/verify') {
        signedIn = true;
        return { json: { access_token: 'a', expires_in: 900, refresh_token: 'r' } };
      }
      const op = operationOf({ url, body });
      if (op === 'ClientPage') return { json: { data: { clientBySlug: { id: 'c1', name: 'Trail Runners', slug: 'trail-runners' } } } };
      if (op === 'JoinClient') return { json: { data: { joinClient: { id: 'm1', status: 'ACTIVE', client: { id: 'c1', name: 'Trail Runners' } } } } };
      return { json: { data: { viewer: signedIn ? { __typename: 'Subscriber', id: 's1', phoneMasked: '+1•••••0199' } : null } } };
    });
    renderIn(<Join slug="trail-runners" />);
    expect(await screen.findByRole('heading', { name: 'Get texts from Trail Runners' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/^Phone number/), { target: { value: '+14155550199' } });
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    fireEvent.change(await screen.findByLabelText(/Six-digit code/), { target: { value: '222333' } });
    fireEvent.click(screen.getByRole('button', { name: 'Join Trail Runners' }));
    expect((await screen.findByTestId('joined')).textContent).toBe('You’re in! You will receive Trail Runners’s messages.');
    expect(calls.find((c) => c.url === '/auth/otp')?.body).toEqual({ phone: '+14155550199', role: 'subscriber' });
    expect(calls.find((c) => operationOf(c) === 'JoinClient')?.body.variables).toEqual({ slug: 'trail-runners' });
  });

  it('says when there is no such page', async () => {
    fakeFetch(({ url, body }) =>
      operationOf({ url, body }) === 'ClientPage' ? { json: { data: { clientBySlug: null } } } : { json: { data: { viewer: null } } },
    );
    renderIn(<Join slug="nobody" />);
    expect(await screen.findByText('There is no Nudges page at /c/nobody. Check the link you were given.')).toBeTruthy();
  });
});

describe('a subscriber’s memberships', () => {
  it('lists them and leaves one', async () => {
    let left = false;
    const calls = fakeFetch(({ url, body }) => {
      const op = operationOf({ url, body });
      if (op === 'SignupViewer') return { json: { data: { viewer: { __typename: 'Subscriber', id: 's1', phoneMasked: '+1•••••0199' } } } };
      if (op === 'LeaveClient') {
        left = true;
        return { json: { data: { leaveClient: { id: 'm1', status: 'STOPPED', stoppedAt: '2026-02-01T00:00:00Z' } } } };
      }
      return {
        json: {
          data: {
            viewer: {
              __typename: 'Subscriber',
              id: 's1',
              phoneMasked: '+1•••••0199',
              memberships: [
                {
                  id: 'm1',
                  status: left ? 'STOPPED' : 'ACTIVE',
                  joinedAt: '2026-01-01T00:00:00Z',
                  stoppedAt: left ? '2026-02-01T00:00:00Z' : null,
                  client: { id: 'c1', name: 'Trail Runners', slug: 'trail-runners' },
                },
              ],
            },
          },
        },
      };
    });
    renderIn(<Memberships />);
    fireEvent.click(await screen.findByRole('button', { name: 'Stop messages from Trail Runners' }));
    expect(await screen.findByRole('link', { name: 'Join again' })).toBeTruthy();
    await waitFor(() => expect(calls.find((c) => operationOf(c) === 'LeaveClient')?.body.variables).toEqual({ clientId: 'c1' }));
  });

  it('asks a visitor to confirm their number first', async () => {
    fakeFetch(() => ({ json: { data: { viewer: null } } }));
    renderIn(<Memberships />);
    expect(await screen.findByText('Confirm your phone number to see who sends you messages.')).toBeTruthy();
  });
});
