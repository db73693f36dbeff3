import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { App } from '../App';
import { issuesOf } from '@nudges/shared/form';

import { PlanEditor, planSchema, type PlanForm } from '../pages/PlanEditor';
import { tierChanges } from '../plans';
import type { PriceTier } from '../types';
import { fakeFetch, operationOf } from './fetch';
import { renderIn } from './render';

vi.mock('@nudges/shared/graphql', async (original) => ({
  ...(await original<typeof import('@nudges/shared/graphql')>()),
  subscribe: () => () => undefined,
}));

const tier = (over: Partial<PriceTier>): PriceTier => ({
  id: 't1',
  name: 'Monthly',
  amount: 900,
  currency: 'usd',
  interval: 'MONTH',
  status: 'ACTIVE',
  version: 1,
  stripePriceId: null,
  trialDays: 0,
  ...over,
});

describe('plan editor', () => {
  const form: PlanForm = {
    name: 'Starter',
    description: '',
    iconUrl: '',
    messagesPerPeriod: '1000',
    supportTier: 'BASIC',
    aiAssist: false,
    currency: 'usd',
    amounts: { WEEK: '', MONTH: '9', YEAR: '90' },
    trials: { WEEK: '', MONTH: '14', YEAR: '' },
  };

  it('accepts a complete plan and refuses what the API would', () => {
    expect(issuesOf(planSchema, form)).toEqual({});
    expect(issuesOf(planSchema, { ...form, name: ' ', messagesPerPeriod: '-1', currency: 'dollars', amounts: { WEEK: 'abc', MONTH: '9.999', YEAR: '' } })).toEqual({
      name: 'validation.required',
      messagesPerPeriod: 'plan.messagesInvalid',
      currency: 'plan.currencyInvalid',
      'amounts.WEEK': 'plan.amountInvalid',
      'amounts.MONTH': 'plan.amountInvalid',
    });
    // Yen have no minor unit: 950 is a price, 9.50 is not.
    expect(issuesOf(planSchema, { ...form, currency: 'JPY', amounts: { WEEK: '950', MONTH: '9.50', YEAR: '' } })).toEqual({ 'amounts.MONTH': 'plan.amountInvalid' });
    // A trial is empty (none) or 0 to 730 whole days, as the API accepts.
    expect(issuesOf(planSchema, { ...form, trials: { WEEK: '0', MONTH: ' 730 ', YEAR: '' } })).toEqual({});
    expect(issuesOf(planSchema, { ...form, trials: { WEEK: '731', MONTH: '-1', YEAR: '1.5' } })).toEqual({
      'trials.WEEK': 'plan.trialInvalid',
      'trials.MONTH': 'plan.trialInvalid',
      'trials.YEAR': 'plan.trialInvalid',
    });
  });

  it('turns the three prices into tier creations, new versions and archives', () => {
    const tiers = [tier({ id: 'm', interval: 'MONTH', amount: 900 }), tier({ id: 'w', interval: 'WEEK', amount: 300 })];
    expect(tierChanges(tiers, { WEEK: null, MONTH: 1200, YEAR: 9000 }, 'usd', { YEAR: 30 })).toEqual([
      { kind: 'archive', id: 'w', interval: 'WEEK' },
      { kind: 'update', id: 'm', interval: 'MONTH', amount: 1200, currency: 'usd', trialDays: 0 },
      { kind: 'create', interval: 'YEAR', amount: 9000, currency: 'usd', trialDays: 30 },
    ]);
    expect(tierChanges(tiers, { WEEK: 300, MONTH: 900, YEAR: null }, 'USD')).toEqual([]);
    // A new trial alone is an update too (the API changes the tier in place).
    expect(tierChanges(tiers, { WEEK: 300, MONTH: 900, YEAR: null }, 'usd', { MONTH: 14 })).toEqual([
      { kind: 'update', id: 'm', interval: 'MONTH', amount: 900, currency: 'usd', trialDays: 14 },
    ]);
  });

  it('shows every problem beside its field and sends nothing', async () => {
    const calls = fakeFetch(() => ({ json: { data: {} } }));
    renderIn(<PlanEditor />);
    fireEvent.change(screen.getByLabelText('Monthly'), { target: { value: 'nine' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create plan' }));
    expect(await screen.findByText('This is required.')).toBeTruthy();
    expect(screen.getByText('Enter an amount such as 9 or 9.50.')).toBeTruthy();
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    expect(calls).toEqual([]);
  });

  it('creates the plan, then one tier per price', async () => {
    const calls = fakeFetch(({ body }) => {
      const op = operationOf({ url: '', body });
      if (op === 'CreatePlan') return { json: { data: { createPlan: { id: 'p1' } } } };
      if (op === 'CreatePriceTier') return { json: { data: { createPriceTier: { id: 't' } } } };
      return { json: { data: { plan: { id: 'p1', name: 'Starter', description: '', iconUrl: null, active: true, stripeProductId: null, updatedAt: '2026-01-01T00:00:00Z', features: null, tiers: [] } } } };
    });
    renderIn(<PlanEditor />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Starter' } });
    fireEvent.change(screen.getByLabelText('Monthly'), { target: { value: '9' } });
    fireEvent.change(screen.getByLabelText('Yearly'), { target: { value: '90.50' } });
    fireEvent.change(screen.getByLabelText('Yearly free trial (days)'), { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create plan' }));
    await waitFor(() => expect(window.location.pathname).toBe('/plans/p1'));
    const mutations = calls.filter((c) => /^mutation/.test(c.body.query?.trim() ?? ''));
    expect(mutations.map((c) => c.body.variables)).toEqual([
      { input: { name: 'Starter', description: '', iconUrl: null, features: { messagesPerPeriod: 1000, supportTier: 'BASIC', aiAssist: false } } },
      { planId: 'p1', input: { name: 'Monthly', amount: 900, currency: 'usd', interval: 'MONTH', trialDays: 0 } },
      { planId: 'p1', input: { name: 'Yearly', amount: 9050, currency: 'usd', interval: 'YEAR', trialDays: 30 } },
    ]);
  });

  it('shows the trial of each tier, and a new trial of a price updates that tier', async () => {
    const calls = fakeFetch(({ body }) => {
      const op = operationOf({ url: '', body });
      if (op === 'UpdatePlan') return { json: { data: { updatePlan: { id: 'p1' } } } };
      if (op === 'UpdatePriceTier') return { json: { data: { updatePriceTier: { id: 'm' } } } };
      const tiers = [tier({ id: 'm', trialDays: 14 }), tier({ id: 'y', name: 'Yearly', interval: 'YEAR', amount: 9000 })];
      return { json: { data: { plan: { id: 'p1', name: 'Starter', description: '', iconUrl: null, active: true, stripeProductId: 'prod_1', updatedAt: '2026-01-01T00:00:00Z', features: null, tiers } } } };
    });
    renderIn(<PlanEditor id="p1" />);
    const monthly = (await screen.findByLabelText('Monthly free trial (days)')) as HTMLInputElement;
    await waitFor(() => expect(monthly.value).toBe('14'));
    expect((screen.getByLabelText('Yearly free trial (days)') as HTMLInputElement).value).toBe('');
    const trials = screen.getAllByRole('cell').filter((cell) => cell.getAttribute('data-label') === 'Free trial');
    expect(trials.map((cell) => cell.textContent)).toEqual(['14 days', 'None']);

    fireEvent.change(monthly, { target: { value: '999' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Enter a whole number of days from 0 to 730, or leave it empty.')).toBeTruthy();
    expect(calls.some((c) => /^mutation/.test(c.body.query?.trim() ?? ''))).toBe(false);

    fireEvent.change(monthly, { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => operationOf(c) === 'UpdatePriceTier')).toBe(true));
    const updates = calls.filter((c) => operationOf(c) === 'UpdatePriceTier');
    expect(updates.map((c) => c.body.variables)).toEqual([{ id: 'm', input: { amount: 900, currency: 'usd', trialDays: 0 } }]);
  });

  it('puts a BAD_USER_INPUT from the API beside its field', async () => {
    fakeFetch(() => ({ json: { data: null, errors: [{ message: 'a plan with this name exists', extensions: { code: 'BAD_USER_INPUT', field: 'name' } }] } }));
    renderIn(<PlanEditor />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Starter' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create plan' }));
    expect(await screen.findByText('Please check “Name”: a plan with this name exists')).toBeTruthy();
  });

  it('reactivates an archived plan', async () => {
    let active = false;
    const calls = fakeFetch(({ body }) => {
      const op = operationOf({ url: '', body });
      if (op === 'ReactivatePlan') {
        active = true;
        return { json: { data: { reactivatePlan: { id: 'p1', active: true } } } };
      }
      return { json: { data: { plan: { id: 'p1', name: 'Starter', description: '', iconUrl: null, active, stripeProductId: 'prod_1', updatedAt: '2026-01-01T00:00:00Z', features: null, tiers: [tier({ status: 'ARCHIVED' })] } } } };
    });
    renderIn(<PlanEditor id="p1" />);
    expect(await screen.findByText(/This plan is archived/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Reactivate' }));
    expect(await screen.findByRole('button', { name: 'Archive' })).toBeTruthy();
    expect(screen.queryByText(/This plan is archived/)).toBeNull();
    const reactivations = calls.filter((c) => operationOf(c) === 'ReactivatePlan');
    expect(reactivations.map((c) => c.body.variables)).toEqual([{ id: 'p1' }]);
  });

  it('keeps the editor and its notice when a new plan gets its address', async () => {
    window.history.replaceState(null, '', '/plans/new');
    fakeFetch(({ body }) => {
      const op = operationOf({ url: '', body });
      if (op === 'AdminViewer') return { json: { data: { viewer: { __typename: 'Admin', id: 'a1' } } } };
      if (op === 'CreatePlan') return { json: { data: { createPlan: { id: 'p1' } } } };
      if (op === 'CreatePriceTier') return { json: { data: { createPriceTier: { id: 't' } } } };
      return { json: { data: { plan: { id: 'p1', name: 'Starter', description: '', iconUrl: null, active: true, stripeProductId: null, updatedAt: '2026-01-01T00:00:00Z', features: null, tiers: [] } } } };
    });
    renderIn(<App />);
    fireEvent.change(await screen.findByLabelText('Name'), { target: { value: 'Starter' } });
    fireEvent.change(screen.getByLabelText('Monthly'), { target: { value: '9' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create plan' }));
    await waitFor(() => expect(window.location.pathname).toBe('/plans/p1'));
    // The plan as loaded at its new address, and the notice still beside it.
    expect(await screen.findByRole('heading', { name: 'Plan: Starter', level: 1 })).toBeTruthy();
    expect(await screen.findByRole('button', { name: 'Archive' })).toBeTruthy();
    expect(screen.getByText(/^Saved\./)).toBeTruthy();
  });
});
