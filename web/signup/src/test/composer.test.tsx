import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { browserTimeZone, Composer } from '../pages/Composer';
import { fakeFetch, operationOf, type Sent } from './fetch';
import { renderIn } from './render';

const PREVIEW = {
  copies: [
    { locale: 'en', text: 'Trail Runners: Run at 7\nReply STOP to unsubscribe', segments: 1, recipients: 3 },
    { locale: 'es', text: 'Trail Runners: Run at 7\nResponde STOP para darte de baja', segments: 2, recipients: 2 },
  ],
  recipients: 5,
  totalSegments: 7,
  allowanceLeft: 976,
  planActive: true,
  maxCharacters: 1560,
  refusal: null,
};

type Scheduled = { id: string; body: string; sendAt: string; timeZone: string; status: string; refusal?: string | null; refusedAt?: string | null };

function graph(preview: Record<string, unknown> = PREVIEW, scheduled: Scheduled[] = []) {
  const calls = fakeFetch((sent: Sent) => {
    const vars = sent.body.variables ?? {};
    switch (operationOf(sent)) {
      case 'PreviewAnnouncement':
        return { json: { data: { previewAnnouncement: preview } } };
      case 'ScheduledAnnouncements':
        return {
          json: {
            data: {
              scheduledAnnouncements: scheduled
                .filter((s) => s.status === 'SCHEDULED' || s.status === 'REFUSED')
                .map((s) => ({ refusal: null, refusedAt: null, ...s })),
            },
          },
        };
      case 'SendAnnouncement':
        return { json: { data: { sendAnnouncement: { id: `a-${String(vars.idempotencyKey)}`, body: vars.text, status: 'CONFIRMED', recipients: 5 } } } };
      case 'ScheduleAnnouncement': {
        const item = { id: 's1', body: String(vars.text), sendAt: '2030-05-04T07:30:00+00:00', timeZone: String(vars.timeZone), status: 'SCHEDULED', refusal: null, refusedAt: null };
        scheduled.push(item);
        return { json: { data: { scheduleAnnouncement: item } } };
      }
      case 'CancelScheduledAnnouncement': {
        const item = scheduled.find((s) => s.id === vars.id);
        if (item) item.status = 'CANCELED';
        return { json: { data: { cancelScheduledAnnouncement: { id: vars.id, status: 'CANCELED' } } } };
      }
      default:
        return { json: { data: { viewer: null } } };
    }
  });
  return calls;
}

const sentOf = (calls: Sent[], name: string) => calls.filter((c) => operationOf(c) === name);

describe('composer', () => {
  it('previews each language copy with its segments, the total and the allowance left', async () => {
    const calls = graph();
    renderIn(<Composer />);
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Run at 7' } });
    expect((await screen.findByTestId('compose-audience')).textContent).toBe('To 5 subscribers');
    expect(screen.getByTestId('copy-en').textContent).toContain('3 subscribers · 1 SMS each');
    expect(screen.getByTestId('copy-es').textContent).toContain('2 subscribers · 2 SMS each');
    expect(screen.getByTestId('copy-es').textContent).toContain('Responde STOP');
    expect(screen.getByTestId('compose-total').textContent).toBe('7 SMS in all');
    expect(screen.getByTestId('compose-left').textContent).toBe('976 SMS left on your plan');
    expect(sentOf(calls, 'PreviewAnnouncement').at(-1)?.body.variables).toEqual({ text: 'Run at 7' });
  });

  it('sends a draft once however often "Send now" is pressed: one key per draft', async () => {
    const calls = graph();
    renderIn(<Composer />);
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Run at 7' } });
    await screen.findByTestId('compose-preview');
    const send = screen.getByTestId('send-now');
    fireEvent.click(send);
    fireEvent.click(send);
    expect(await screen.findByText('Sending to 5 subscribers.')).toBeTruthy();
    const keys = new Set(sentOf(calls, 'SendAnnouncement').map((c) => c.body.variables?.idempotencyKey));
    expect(keys.size).toBe(1);
    // The next draft has a key of its own.
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Run at 8' } });
    fireEvent.click(screen.getByTestId('send-now'));
    await waitFor(() => expect(new Set(sentOf(calls, 'SendAnnouncement').map((c) => c.body.variables?.idempotencyKey)).size).toBe(2));
  });

  it('schedules in the browser time zone, lists it, and cancels it', async () => {
    const calls = graph();
    renderIn(<Composer />);
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Sale at 9' } });
    fireEvent.click(screen.getByTestId('schedule'));
    expect(await screen.findByText('Choose when to send it.')).toBeTruthy();
    expect(sentOf(calls, 'ScheduleAnnouncement')).toHaveLength(0);

    fireEvent.change(screen.getByLabelText('Or send it later'), { target: { value: '2030-05-04T09:30' } });
    fireEvent.click(screen.getByTestId('schedule'));
    expect(await screen.findByText('Scheduled.')).toBeTruthy();
    expect(sentOf(calls, 'ScheduleAnnouncement')[0]?.body.variables).toEqual({
      text: 'Sale at 9',
      sendAt: '2030-05-04T09:30',
      timeZone: browserTimeZone(),
    });
    const list = await screen.findByTestId('scheduled-list');
    expect(list.textContent).toContain('Sale at 9');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(await screen.findByText('Nothing scheduled.')).toBeTruthy();
    expect(sentOf(calls, 'CancelScheduledAnnouncement')[0]?.body.variables).toEqual({ id: 's1' });
  });

  it("schedules in the client's time zone when it has one", async () => {
    const calls = graph();
    renderIn(<Composer timeZone="Asia/Tokyo" />);
    expect(screen.getByText('Date and time in your time zone (Asia/Tokyo).')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Sale at 9' } });
    fireEvent.change(screen.getByLabelText('Or send it later'), { target: { value: '2030-05-04T16:30' } });
    fireEvent.click(screen.getByTestId('schedule'));
    expect(await screen.findByText('Scheduled.')).toBeTruthy();
    expect(sentOf(calls, 'ScheduleAnnouncement')[0]?.body.variables).toMatchObject({ timeZone: 'Asia/Tokyo' });
    // 07:30 UTC is 16:30 in Tokyo.
    expect((await screen.findByTestId('scheduled-s1')).textContent).toContain('4:30');
  });

  it('lists a schedule refused at its time with the reason, and no cancel', async () => {
    graph(PREVIEW, [
      {
        id: 'r1',
        body: 'Flash sale',
        sendAt: '2030-05-04T07:30:00+00:00',
        timeZone: 'UTC',
        status: 'REFUSED',
        refusal: 'ALLOWANCE_EXCEEDED',
        refusedAt: '2030-05-04T07:30:02+00:00',
      },
    ]);
    renderIn(<Composer timeZone="UTC" />);
    const item = await screen.findByTestId('scheduled-r1');
    expect(item.textContent).toContain('Flash sale');
    expect(item.textContent).toContain('Not sent');
    expect(screen.getByTestId('scheduled-refusal').textContent).toBe('At its time it needed more SMS than your plan had left.');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('says why a draft cannot be sent and does not offer to send it', async () => {
    graph({ ...PREVIEW, refusal: 'ALLOWANCE_EXCEEDED', allowanceLeft: 4 });
    renderIn(<Composer />);
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Run at 7' } });
    expect(await screen.findByText('This needs more SMS than your plan has left.')).toBeTruthy();
    expect((screen.getByTestId('send-now') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('schedule') as HTMLButtonElement).disabled).toBe(true);
  });
});
