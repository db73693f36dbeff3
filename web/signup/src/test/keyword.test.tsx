import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { Dashboard } from '../pages/Dashboard';
import { fakeFetch, operationOf, type Answer, type Sent } from './fetch';
import { renderIn } from './render';
import { clientViewer } from './viewer';

vi.mock('@nudges/shared/graphql', async (original) => ({
  ...(await original<typeof import('@nudges/shared/graphql')>()),
  subscribe: () => () => undefined,
}));

/** The dashboard of a client whose keyword is `keyword`; `onSetKeyword` answers SetKeyword. */
function dashboardWith(keyword: string | null, onSetKeyword: (sent: Sent) => Answer = () => ({ json: { data: null } })) {
  let current = keyword;
  return fakeFetch((sent) => {
    const operation = operationOf(sent);
    if (operation === 'ScheduledAnnouncements') return { json: { data: { scheduledAnnouncements: [] } } };
    if (operation === 'SignupViewer') {
      return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'Trail Runners', slug: 'trail-runners' } } } };
    }
    if (operation === 'SetKeyword') {
      const answer = onSetKeyword(sent);
      const saved = (answer.json as { data?: { updateClient?: { keyword: string | null } } | null }).data?.updateClient;
      if (saved) current = saved.keyword;
      return answer;
    }
    return { json: { data: { viewer: clientViewer({ keyword: current }) } } };
  });
}

const field = () => screen.getByLabelText('Keyword') as HTMLInputElement;

describe('text-to-join keyword', () => {
  it('shows the current keyword and how people join by text', async () => {
    dashboardWith('RUNNERS');
    renderIn(<Dashboard />);
    await screen.findByRole('heading', { name: 'Text-to-join keyword' });
    expect(field().value).toBe('RUNNERS');
    expect(screen.getByTestId('keyword-how').textContent).toBe(
      'People can join by texting JOIN trail-runners, or your keyword alone, to the Nudges number.',
    );
  });

  it('saves a new keyword in capitals and shows it saved', async () => {
    const calls = dashboardWith(null, (sent) => ({
      json: { data: { updateClient: { id: 'c1', keyword: String(sent.body.variables?.keyword) } } },
    }));
    renderIn(<Dashboard />);
    await screen.findByRole('heading', { name: 'Text-to-join keyword' });
    expect(field().value).toBe('');
    fireEvent.change(field(), { target: { value: 'trail7' } });
    expect(field().value).toBe('TRAIL7');
    fireEvent.click(screen.getByRole('button', { name: 'Save keyword' }));
    expect(await screen.findByText('Saved: people can text TRAIL7 to join.')).toBeTruthy();
    expect(calls.find((c) => operationOf(c) === 'SetKeyword')?.body.variables).toEqual({ id: 'c1', keyword: 'TRAIL7' });
    await waitFor(() => expect(field().value).toBe('TRAIL7'));
  });

  it('removes the keyword when the field is emptied', async () => {
    const calls = dashboardWith('RUNNERS', () => ({ json: { data: { updateClient: { id: 'c1', keyword: null } } } }));
    renderIn(<Dashboard />);
    await screen.findByRole('heading', { name: 'Text-to-join keyword' });
    fireEvent.change(field(), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save keyword' }));
    expect(await screen.findByText('Keyword removed: people join with JOIN trail-runners.')).toBeTruthy();
    expect(calls.find((c) => operationOf(c) === 'SetKeyword')?.body.variables).toEqual({ id: 'c1', keyword: '' });
  });

  it('checks the keyword in the browser as the server does, sending nothing', async () => {
    const calls = dashboardWith(null);
    renderIn(<Dashboard />);
    await screen.findByRole('heading', { name: 'Text-to-join keyword' });
    fireEvent.change(field(), { target: { value: 'trail run' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save keyword' }));
    expect(await screen.findByText('Use 2 to 20 letters or digits, no spaces.')).toBeTruthy();
    fireEvent.change(field(), { target: { value: 'stop' } });
    expect(await screen.findByText('That word is one of Nudges’ own (JOIN, STOP, HELP…). Choose another.')).toBeTruthy();
    expect(field().getAttribute('aria-invalid')).toBe('true');
    expect(calls.some((c) => operationOf(c) === 'SetKeyword')).toBe(false);
  });

  it('shows a taken keyword (CONFLICT) beside the field', async () => {
    dashboardWith('RUNNERS', () => ({
      json: { data: null, errors: [{ message: 'the keyword BREAD is taken', extensions: { code: 'CONFLICT', field: 'keyword' } }] },
    }));
    renderIn(<Dashboard />);
    await screen.findByRole('heading', { name: 'Text-to-join keyword' });
    fireEvent.change(field(), { target: { value: 'bread' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save keyword' }));
    const error = await screen.findByText('Please choose another “Keyword”: the keyword BREAD is taken');
    expect(error.className).toBe('field-error');
    expect(field().getAttribute('aria-describedby')).toContain(error.id);
    expect(field().value).toBe('BREAD');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows what the server refuses (BAD_USER_INPUT) beside the field', async () => {
    dashboardWith(null, () => ({
      json: { data: null, errors: [{ message: "'INFO' is reserved for Nudges", extensions: { code: 'BAD_USER_INPUT', field: 'keyword' } }] },
    }));
    renderIn(<Dashboard />);
    await screen.findByRole('heading', { name: 'Text-to-join keyword' });
    // A word the browser lets through (its list could be older than the server's).
    fireEvent.change(field(), { target: { value: 'bakery' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save keyword' }));
    const error = await screen.findByText('Please check “Keyword”: \'INFO\' is reserved for Nudges');
    expect(error.className).toBe('field-error');
  });
});
