import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { ChoosePlan } from '../pages/ChoosePlan';
import { leaveFor } from '../redirect';
import { fakeFetch, operationOf } from './fetch';
import { renderIn } from './render';

vi.mock('../redirect', () => ({ leaveFor: vi.fn() }));

const plans = {
  plans: {
    totalCount: 2,
    nodes: [
      {
        id: 'p1',
        name: 'Starter',
        description: 'For new clubs',
        iconUrl: null,
        features: { messagesPerPeriod: 1000, supportTier: 'BASIC', aiAssist: false },
        tiers: [
          { id: 't-month', name: 'Monthly', amount: 900, currency: 'usd', interval: 'MONTH' },
          { id: 't-year', name: 'Yearly', amount: 9000, currency: 'usd', interval: 'YEAR' },
        ],
      },
      {
        id: 'p2',
        name: 'Pro',
        description: '',
        iconUrl: null,
        features: { messagesPerPeriod: 10000, supportTier: 'PREMIUM', aiAssist: true },
        tiers: [{ id: 't-pro', name: 'Monthly', amount: 4900, currency: 'usd', interval: 'MONTH' }],
      },
    ],
  },
};

function platform(checkout: () => unknown) {
  return fakeFetch(({ url, body }) => {
    const op = operationOf({ url, body });
    if (op === 'SignupViewer') return { json: { data: { viewer: { __typename: 'Client', id: 'c1', name: 'Club', slug: 'club' } } } };
    if (op === 'PublicPlans') return { json: { data: plans } };
    return { json: checkout() };
  });
}

describe('choosing a plan', () => {
  beforeEach(() => vi.mocked(leaveFor).mockClear());

  it('switches between monthly and yearly prices', async () => {
    platform(() => ({}));
    renderIn(<ChoosePlan />);
    const starter = await screen.findByRole('region', { name: 'Starter' });
    expect(within(starter).getByText('$9.00')).toBeTruthy();
    expect(within(starter).getByText('1,000 messages per period')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Yearly' }));
    expect(screen.getByRole('button', { name: 'Yearly' }).getAttribute('aria-pressed')).toBe('true');
    expect(within(starter).getByText('$90.00')).toBeTruthy();
    const pro = screen.getByRole('region', { name: 'Pro' });
    expect(within(pro).getByText('Not offered for this period')).toBeTruthy();
    expect((within(pro).getByRole('button', { name: 'Choose Pro and pay' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Weekly' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('opens the Stripe checkout with the discount code', async () => {
    const calls = platform(() => ({ data: { createCheckoutSession: { id: 's1', url: 'http://127.0.0.1:12111/checkout/cs_1', status: 'OPEN' } } }));
    renderIn(<ChoosePlan />);
    fireEvent.change(await screen.findByLabelText(/Discount code/), { target: { value: 'spring25' } });
    fireEvent.click(await screen.findByRole('button', { name: 'Choose Starter and pay' }));
    await waitFor(() => expect(leaveFor).toHaveBeenCalledWith('http://127.0.0.1:12111/checkout/cs_1'));
    const sent = calls.find((c) => operationOf(c) === 'CreateCheckoutSession')?.body.variables;
    expect(sent).toMatchObject({ priceTierId: 't-month', discountCode: 'SPRING25' });
  });

  it('checks the discount code, and shows the API refusing it beside the field', async () => {
    platform(() => ({ data: null, errors: [{ message: 'no such discount code', extensions: { code: 'BAD_USER_INPUT', field: 'discountCode' } }] }));
    renderIn(<ChoosePlan />);
    fireEvent.change(await screen.findByLabelText(/Discount code/), { target: { value: 'x!' } });
    fireEvent.click(await screen.findByRole('button', { name: 'Choose Starter and pay' }));
    expect(await screen.findByText('A discount code has 3 to 40 letters, digits, - or _.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Discount code/), { target: { value: 'NOPE' } });
    fireEvent.click(screen.getByRole('button', { name: 'Choose Starter and pay' }));
    expect(await screen.findByText('Please check “Discount code”: no such discount code')).toBeTruthy();
    expect(leaveFor).not.toHaveBeenCalled();
  });
});

describe('checkout right after sign-up', () => {
  beforeEach(() => vi.mocked(leaveFor).mockClear());

  it('waits while the billing account is being set up (CONFLICT), then opens checkout', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let attempts = 0;
    platform(() => {
      attempts += 1;
      return attempts === 1
        ? { data: null, errors: [{ message: 'your billing account is still being set up; try again in a minute', extensions: { code: 'CONFLICT' } }] }
        : { data: { createCheckoutSession: { id: 's1', url: 'http://stripe/checkout/cs_2', status: 'OPEN' } } };
    });
    renderIn(<ChoosePlan />);
    fireEvent.click(await screen.findByRole('button', { name: 'Choose Starter and pay' }));
    expect(await screen.findByText('Your billing account is being set up; checkout opens in a moment…')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    await vi.advanceTimersByTimeAsync(2500);
    await waitFor(() => expect(leaveFor).toHaveBeenCalledWith('http://stripe/checkout/cs_2'));
    expect(attempts).toBe(2);
    vi.useRealTimers();
  });
});
