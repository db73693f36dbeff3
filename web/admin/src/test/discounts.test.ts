import { describe, expect, it } from 'vitest';

import { issuesOf } from '@nudges/shared/form';

import { discountSchema, type DiscountForm } from '../pages/DiscountCodes';

const form: DiscountForm = {
  code: 'SPRING25',
  kind: 'percent',
  percentOff: '25',
  amountOff: '',
  currency: 'usd',
  duration: 'ONCE',
  durationInMonths: '',
  maxRedemptions: '',
  expiresAt: '',
};

describe('discount code form', () => {
  const schema = discountSchema('2026-06-01');

  it('accepts a complete code', () => {
    expect(issuesOf(schema, form)).toEqual({});
    expect(issuesOf(schema, { ...form, kind: 'amount', amountOff: '5.50', currency: 'EUR', duration: 'REPEATING', durationInMonths: '3', maxRedemptions: '100', expiresAt: '2026-06-02' })).toEqual({});
  });

  it('checks only the fields of the chosen kind and duration', () => {
    expect(issuesOf(schema, { ...form, code: ' ', percentOff: '0', amountOff: 'x', durationInMonths: 'x' })).toEqual({
      code: 'validation.required',
      percentOff: 'discounts.percentInvalid',
    });
    expect(issuesOf(schema, { ...form, code: 'a b', kind: 'amount', amountOff: '0', currency: 'euro', duration: 'REPEATING', durationInMonths: '0', maxRedemptions: '-1', expiresAt: '2026-06-01' })).toEqual({
      code: 'discounts.codeInvalid',
      amountOff: 'plan.amountInvalid',
      currency: 'plan.currencyInvalid',
      durationInMonths: 'discounts.monthsInvalid',
      maxRedemptions: 'discounts.maxInvalid',
      expiresAt: 'discounts.expiresInvalid',
    });
  });
});
