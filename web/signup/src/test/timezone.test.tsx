import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { browserTimeZone } from '../pages/Composer';
import { Dashboard } from '../pages/Dashboard';
import { fakeFetch, operationOf, type Answer, type Sent } from './fetch';
import { renderIn } from './render';
import { clientViewer } from './viewer';

vi.mock('@nudges/shared/graphql', async (original) => ({
  ...(await original<typeof import('@nudges/shared/graphql')>()),
  subscribe: () => () => undefined,
}));

/** The zone UserApi gives when the client chose none (their number's). */
const AUTOMATIC = 'America/Los_Angeles';

/** The dashboard of a client whose time zone setting is `setting` (null: none);
 * `onSetTimeZone` answers SetTimeZone. */
function dashboardWith(setting: string | null, onSetTimeZone?: (sent: Sent) => Answer) {
  let current = setting;
  return fakeFetch((sent) => {
    const operation = operationOf(sent);
    if (operation === 'ScheduledAnnouncements') {
      return {
        json: {
          data: {
            scheduledAnnouncements: [
              { id: 's1', body: 'Sale at 9', sendAt: '2030-05-04T16:30:00+00:00', timeZone: 'UTC', status: 'SCHEDULED', refusal: null, refusedAt: null },
            ],
          },
        },
      };
    }
    if (operation === 'SignupViewer') {
      return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'Trail Runners', slug: 'trail-runners' } } } };
    }
    if (operation === 'SetTimeZone') {
      const wanted = String(sent.body.variables?.timeZone);
      const answer = onSetTimeZone?.(sent) ?? {
        json: { data: { updateClient: { id: 'c1', timeZone: wanted || AUTOMATIC, timeZoneSet: Boolean(wanted) } } },
      };
      const saved = (answer.json as { data?: { updateClient?: { timeZoneSet: boolean; timeZone: string } } | null }).data?.updateClient;
      if (saved) current = saved.timeZoneSet ? saved.timeZone : null;
      return answer;
    }
    return { json: { data: { viewer: clientViewer({ timeZone: current ?? AUTOMATIC, timeZoneSet: current !== null }) } } };
  });
}

const field = () => screen.getByLabelText('Time zone') as HTMLInputElement;

describe('time zone', () => {
  it('shows the automatic zone, and the composer schedules and lists in it', async () => {
    const calls = dashboardWith(null);
    renderIn(<Dashboard />);
    expect((await screen.findByTestId('zone-current')).textContent).toContain(`in ${AUTOMATIC}, the zone of your phone number`);
    expect(field().value).toBe('');
    expect(calls.find((c) => operationOf(c) === 'ClientDashboard')?.body.variables).toEqual({ browserTimeZone: browserTimeZone() });
    expect(screen.getByText(`Date and time in your time zone (${AUTOMATIC}).`)).toBeTruthy();
    // 16:30 UTC is 09:30 in Los Angeles (summer time).
    const listed = await screen.findByTestId('scheduled-s1');
    expect(listed.textContent).toContain('9:30');
    expect(listed.textContent).toContain(`(${AUTOMATIC})`);
  });

  it('saves a zone and goes back to the automatic one when emptied', async () => {
    const calls = dashboardWith(null);
    renderIn(<Dashboard />);
    await screen.findByTestId('zone-current');
    fireEvent.change(field(), { target: { value: 'Europe/Paris' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save time zone' }));
    expect(await screen.findByText('Saved: your times are in Europe/Paris.')).toBeTruthy();
    expect(calls.find((c) => operationOf(c) === 'SetTimeZone')?.body.variables).toEqual({
      id: 'c1',
      timeZone: 'Europe/Paris',
      browserTimeZone: browserTimeZone(),
    });
    await waitFor(() => expect(screen.getByTestId('zone-current').textContent).toBe('Scheduled announcements go out at the times you choose in Europe/Paris.'));
    await waitFor(() => expect(field().value).toBe('Europe/Paris'));
    expect(within(screen.getByTestId('scheduled-s1')).getByText('(Europe/Paris)')).toBeTruthy();

    fireEvent.change(field(), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save time zone' }));
    expect(await screen.findByText(`Back to the automatic zone: ${AUTOMATIC}.`)).toBeTruthy();
  });

  it('checks the zone in the browser, sending nothing, and shows what the server refuses', async () => {
    const calls = dashboardWith('Europe/Paris', () => ({
      json: { data: null, errors: [{ message: 'timeZone is not a known time zone', extensions: { code: 'BAD_USER_INPUT', field: 'timeZone' } }] },
    }));
    renderIn(<Dashboard />);
    await screen.findByTestId('zone-current');
    fireEvent.change(field(), { target: { value: 'Europe/Atlantis' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save time zone' }));
    expect(await screen.findByText('This is not a time zone. Choose one from the list, such as Europe/Paris.')).toBeTruthy();
    expect(calls.some((c) => operationOf(c) === 'SetTimeZone')).toBe(false);
    // A zone this browser knows that the server's database does not.
    fireEvent.change(field(), { target: { value: 'Asia/Tokyo' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save time zone' }));
    const error = await screen.findByText('Please check “Time zone”: timeZone is not a known time zone');
    expect(error.className).toBe('field-error');
  });
});
