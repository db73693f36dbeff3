import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { Dashboard } from '../pages/Dashboard';
import { fakeFetch, operationOf } from './fetch';
import { renderIn } from './render';

vi.mock('@nudges/shared/graphql', async (original) => ({
  ...(await original<typeof import('@nudges/shared/graphql')>()),
  subscribe: () => () => undefined,
}));

describe('client dashboard', () => {
  it('shows plan status, subscribers, the join link with its QR code, how to announce, and history', async () => {
    fakeFetch(({ url, body }) => {
      if (operationOf({ url, body }) === 'ScheduledAnnouncements') return { json: { data: { scheduledAnnouncements: [] } } };
      if (operationOf({ url, body }) === 'SignupViewer') {
        return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'Trail Runners', slug: 'trail-runners' } } } };
      }
      return {
        json: {
          data: {
            viewer: {
              __typename: 'Client',
              id: 'c1',
              name: 'Trail Runners',
              slug: 'trail-runners',
              locale: 'en',
              subscriberCount: 12,
              quietHours: true,
              keyword: null,
              timeZone: 'America/Los_Angeles',
              timeZoneSet: false,
              subscription: {
                id: 'ps1',
                status: 'ACTIVE',
                currentPeriodEnd: '2026-03-01T00:00:00Z',
                cancelAtPeriodEnd: false,
                pendingChangeAt: null,
                trialEndsAt: '2999-01-10T00:00:00Z',
                pendingPriceTier: null,
                priceTier: { id: 't', name: 'Monthly', amount: 900, currency: 'usd', interval: 'MONTH', plan: { id: 'p', name: 'Starter' } },
              },
              allowance: { active: true, messagesPerPeriod: 1000, used: 24, remaining: 976, state: 'ACTIVE', graceEndsAt: null, graceDaysLeft: null },
              announcements: {
                totalCount: 1,
                nodes: [{ id: 'a1', body: 'Run at 7', status: 'SENT', recipients: 12, sent: 12, delivered: 11, failed: 1, held: 0, createdAt: '2026-02-01T00:00:00Z', completedAt: '2026-02-01T00:01:00Z' }],
              },
            },
          },
        },
      };
    });
    renderIn(<Dashboard />);
    expect((await screen.findByTestId('plan-status')).textContent).toBe('Active');
    expect(screen.getByTestId('subscriber-count').textContent).toBe('12');
    expect(screen.getByTestId('join-link').textContent).toBe(`${window.location.origin}/c/trail-runners`);
    expect(await screen.findByAltText(`QR code that opens ${window.location.origin}/c/trail-runners`)).toBeTruthy();
    expect(screen.getByText(/reply CONFIRM to send it to your 12 subscribers/)).toBeTruthy();
    expect(screen.getByText('976 of 1,000 messages left')).toBeTruthy();
    expect(screen.getByText('Run at 7')).toBeTruthy();
    expect(screen.queryByTestId('plan-grace')).toBeNull();
    expect(screen.getByTestId('plan-trial').textContent).toBe('until Jan 10, 2999: your first payment is taken then');
  });

  it('shows copies held for quiet hours and lets the client turn quiet hours off', async () => {
    let quietHours = true;
    const calls = fakeFetch(({ url, body }) => {
      const operation = operationOf({ url, body });
      if (operation === 'ScheduledAnnouncements') return { json: { data: { scheduledAnnouncements: [] } } };
      if (operation === 'SignupViewer') {
        return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'Trail Runners', slug: 'trail-runners' } } } };
      }
      if (operation === 'SetQuietHours') {
        quietHours = Boolean(body.variables?.on);
        return { json: { data: { updateClient: { id: 'c1', quietHours } } } };
      }
      return {
        json: {
          data: {
            viewer: {
              __typename: 'Client',
              id: 'c1',
              name: 'Trail Runners',
              slug: 'trail-runners',
              locale: 'en',
              subscriberCount: 2,
              quietHours,
              keyword: null,
              timeZone: 'America/Los_Angeles',
              timeZoneSet: false,
              subscription: null,
              allowance: { active: true, messagesPerPeriod: 1000, used: 2, remaining: 998, state: 'ACTIVE', graceEndsAt: null, graceDaysLeft: null },
              announcements: {
                totalCount: 1,
                nodes: [{ id: 'a1', body: 'Bread at dawn', status: 'SENDING', recipients: 2, sent: 1, delivered: 1, failed: 0, held: 1, createdAt: '2026-07-01T05:00:00Z', completedAt: null }],
              },
            },
          },
        },
      };
    });
    renderIn(<Dashboard />);
    expect((await screen.findByTestId('held')).textContent).toBe('1');
    const setting = screen.getByLabelText('Hold announcements between 9 pm and 8 am in each subscriber’s time zone') as HTMLInputElement;
    expect(setting.checked).toBe(true);
    fireEvent.click(setting);
    await waitFor(() => expect(calls.some((c) => operationOf(c) === 'SetQuietHours')).toBe(true));
    const sent = calls.find((c) => operationOf(c) === 'SetQuietHours');
    expect(sent?.body.variables).toEqual({ id: 'c1', on: false });
    await waitFor(() => expect((screen.getByTestId('quiet-hours') as HTMLInputElement).checked).toBe(false));
  });

  function pastDue(allowance: Record<string, unknown>) {
    fakeFetch(({ url, body }) => {
      if (operationOf({ url, body }) === 'ScheduledAnnouncements') return { json: { data: { scheduledAnnouncements: [] } } };
      if (operationOf({ url, body }) === 'SignupViewer') {
        return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'Trail Runners', slug: 'trail-runners' } } } };
      }
      return {
        json: {
          data: {
            viewer: {
              __typename: 'Client',
              id: 'c1',
              name: 'Trail Runners',
              slug: 'trail-runners',
              locale: 'en',
              subscriberCount: 12,
              quietHours: true,
              keyword: null,
              timeZone: 'America/Los_Angeles',
              timeZoneSet: false,
              subscription: {
                id: 'ps1',
                status: 'PAST_DUE',
                currentPeriodEnd: '2026-04-01T00:00:00Z',
                cancelAtPeriodEnd: false,
                pendingChangeAt: null,
                trialEndsAt: null,
                pendingPriceTier: null,
                priceTier: { id: 't', name: 'Monthly', amount: 900, currency: 'usd', interval: 'MONTH', plan: { id: 'p', name: 'Starter' } },
              },
              allowance: { messagesPerPeriod: 1000, used: 24, ...allowance },
              announcements: { totalCount: 0, nodes: [] },
            },
          },
        },
      };
    });
  }

  it('tells a past-due client how many days of sending the grace period leaves', async () => {
    pastDue({ active: true, remaining: 976, state: 'GRACE', graceEndsAt: '2026-03-08T12:00:00Z', graceDaysLeft: 3 });
    renderIn(<Dashboard />);
    expect((await screen.findByTestId('plan-status')).textContent).toBe('Payment overdue');
    expect(screen.getByTestId('plan-grace').textContent).toBe(
      'Your last payment failed: you can keep sending for 3 more days, until Mar 8, 2026. Update your payment method to keep sending.',
    );
  });

  it('tells a client past the grace period that sending is paused', async () => {
    pastDue({ active: false, remaining: 0, state: 'LAPSED', graceEndsAt: '2026-03-08T12:00:00Z', graceDaysLeft: 0 });
    renderIn(<Dashboard />);
    expect((await screen.findByTestId('plan-grace')).textContent).toBe(
      'Your payment is overdue, so sending is paused. Update your payment method to send again.',
    );
  });

  it('changes plan: lists the tiers of the same currency and interval, confirms, then shows the pending downgrade', async () => {
    let pending: Record<string, unknown> | null = null;
    const starter = { id: 't-starter', name: 'Monthly', amount: 900, currency: 'usd', interval: 'MONTH', plan: { id: 'p1', name: 'Starter' } };
    const calls = fakeFetch(({ url, body }) => {
      const operation = operationOf({ url, body });
      if (operation === 'SignupViewer') {
        return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'Trail Runners', slug: 'trail-runners' } } } };
      }
      if (operation === 'PublicPlans') {
        const tier = (id: string, amount: number, interval = 'MONTH') => ({ id, name: 'Monthly', amount, currency: 'usd', interval });
        const plan = (id: string, name: string, tiers: unknown[]) => ({
          id,
          name,
          description: '',
          iconUrl: null,
          features: { messagesPerPeriod: 100, supportTier: 'BASIC', aiAssist: false },
          tiers,
        });
        return {
          json: {
            data: {
              plans: {
                totalCount: 3,
                nodes: [
                  plan('p0', 'Mini', [tier('t-mini', 300), tier('t-mini-year', 3000, 'YEAR')]),
                  plan('p1', 'Starter', [{ ...tier('t-starter', 900) }]),
                  plan('p2', 'Pro', [tier('t-pro', 2900)]),
                ],
              },
            },
          },
        };
      }
      if (operation === 'ChangePlanSubscription') {
        pending = { id: 't-mini', name: 'Monthly', plan: { id: 'p0', name: 'Mini' } };
        return { json: { data: { changePlanSubscription: { id: 'ps1', pendingChangeAt: '2026-03-01T00:00:00Z', pendingPriceTier: pending } } } };
      }
      return {
        json: {
          data: {
            viewer: {
              __typename: 'Client',
              id: 'c1',
              name: 'Trail Runners',
              slug: 'trail-runners',
              locale: 'en',
              subscriberCount: 12,
              quietHours: true,
              keyword: null,
              timeZone: 'America/Los_Angeles',
              timeZoneSet: false,
              subscription: {
                id: 'ps1',
                status: 'ACTIVE',
                currentPeriodEnd: '2026-03-01T00:00:00Z',
                cancelAtPeriodEnd: false,
                pendingChangeAt: pending ? '2026-03-01T00:00:00Z' : null,
                trialEndsAt: '2026-01-10T00:00:00Z',
                priceTier: starter,
                pendingPriceTier: pending,
              },
              allowance: { active: true, messagesPerPeriod: 1000, used: 24, remaining: 976, state: 'ACTIVE', graceEndsAt: null, graceDaysLeft: null },
              announcements: { totalCount: 0, nodes: [] },
            },
          },
        },
      };
    });
    renderIn(<Dashboard />);
    fireEvent.click(await screen.findByRole('button', { name: 'Change plan' }));
    expect(screen.queryByTestId('plan-trial')).toBeNull(); // the trial is over
    const mini = await screen.findByLabelText(/Mini — \$3\.00/);
    // Only monthly tiers in dollars, other than the current one.
    expect(screen.getAllByRole('radio')).toHaveLength(2);
    expect(screen.getByLabelText(/Pro — \$29\.00/)).toBeTruthy();
    fireEvent.click(mini);
    expect(screen.getByText(/A downgrade applies at the end of this period/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Confirm the change' }));
    await waitFor(() => expect(calls.some((c) => operationOf(c) === 'ChangePlanSubscription')).toBe(true));
    expect(calls.find((c) => operationOf(c) === 'ChangePlanSubscription')?.body.variables).toEqual({ id: 'ps1', priceTierId: 't-mini' });
    expect((await screen.findByTestId('plan-pending')).textContent).toBe('to Mini on Mar 1, 2026');
    expect(screen.queryByRole('button', { name: 'Change plan' })).toBeNull();
  });
  it('withdraws a pending downgrade with "Keep my current plan"; an upgrade has no such button', async () => {
    let pending: { tier: Record<string, unknown>; at: string | null } | null = {
      tier: { id: 't-mini', name: 'Monthly', plan: { id: 'p0', name: 'Mini' } },
      at: '2999-03-01T00:00:00Z',
    };
    const calls = fakeFetch(({ url, body }) => {
      const operation = operationOf({ url, body });
      if (operation === 'SignupViewer') {
        return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'Trail Runners', slug: 'trail-runners' } } } };
      }
      if (operation === 'CancelPlanChange') {
        pending = null;
        return { json: { data: { cancelPlanChange: { id: 'ps1', pendingChangeAt: null, pendingPriceTier: null } } } };
      }
      return {
        json: {
          data: {
            viewer: {
              __typename: 'Client',
              id: 'c1',
              name: 'Trail Runners',
              slug: 'trail-runners',
              locale: 'en',
              subscriberCount: 12,
              quietHours: true,
              keyword: null,
              timeZone: 'America/Los_Angeles',
              timeZoneSet: false,
              subscription: {
                id: 'ps1',
                status: 'ACTIVE',
                currentPeriodEnd: '2999-03-01T00:00:00Z',
                cancelAtPeriodEnd: false,
                pendingChangeAt: pending?.at ?? null,
                trialEndsAt: null,
                priceTier: { id: 't-starter', name: 'Monthly', amount: 900, currency: 'usd', interval: 'MONTH', plan: { id: 'p1', name: 'Starter' } },
                pendingPriceTier: pending?.tier ?? null,
              },
              allowance: { active: true, messagesPerPeriod: 1000, used: 24, remaining: 976, state: 'ACTIVE', graceEndsAt: null, graceDaysLeft: null },
              announcements: { totalCount: 0, nodes: [] },
            },
          },
        },
      };
    });
    const { unmount } = renderIn(<Dashboard />);
    expect((await screen.findByTestId('plan-pending')).textContent).toBe('to Mini on Mar 1, 2999');
    expect(screen.getByText('Changed your mind? Stay on Starter after Mar 1, 2999.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Keep my current plan' }));
    await waitFor(() => expect(calls.some((c) => operationOf(c) === 'CancelPlanChange')).toBe(true));
    expect(calls.filter((c) => operationOf(c) === 'CancelPlanChange').map((c) => c.body.variables)).toEqual([{ id: 'ps1' }]);
    // Reloaded: nothing pending, and the plan can be changed again.
    expect(await screen.findByRole('button', { name: 'Change plan' })).toBeTruthy();
    expect(screen.queryByTestId('plan-pending')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Keep my current plan' })).toBeNull();
    unmount();

    // An upgrade waits only for Stripe to charge it: nothing to withdraw.
    pending = { tier: { id: 't-pro', name: 'Monthly', plan: { id: 'p2', name: 'Pro' } }, at: null };
    renderIn(<Dashboard />);
    expect((await screen.findByTestId('plan-pending')).textContent).toBe('to Pro: being confirmed');
    expect(screen.queryByRole('button', { name: 'Keep my current plan' })).toBeNull();
  });
});
