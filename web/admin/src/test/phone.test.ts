import { describe, expect, it } from 'vitest';

import { browserCountry, codeProblem, formatPhone, phoneProblem, toE164 } from '@nudges/shared/phone';

describe('phone numbers', () => {
  it('reads the country from the browser language', () => {
    expect(browserCountry(['fr-FR'])).toBe('FR');
    expect(browserCountry(['de'])).toBe('DE');
    expect(browserCountry(['not a tag', 'en-US'])).toBe('US');
  });

  it('accepts a national number in the browser country and sends E.164', () => {
    expect(phoneProblem('(415) 555-0100', 'US')).toBeNull();
    expect(toE164('(415) 555-0100', 'US')).toBe('+14155550100');
    expect(toE164('06 12 34 56 78', 'FR')).toBe('+33612345678');
    expect(toE164('+34 612 345 678', 'US')).toBe('+34612345678');
  });

  it('formats as the person types', () => {
    expect(formatPhone('4155550100', 'US')).toBe('(415) 555-0100');
    expect(formatPhone('+14155550100', null)).toBe('+1 415 555 0100');
  });

  it('says what is wrong, as an i18n key', () => {
    expect(phoneProblem(' ', 'US')).toBe('validation.phoneRequired');
    expect(phoneProblem('612345678', null)).toBe('validation.phoneCountry');
    expect(phoneProblem('415555', 'US')).toBe('validation.phoneInvalid');
    expect(codeProblem('')).toBe('validation.codeRequired');
    expect(codeProblem('12a456')).toBe('validation.codeInvalid');
    expect(codeProblem(' 123456 ')).toBeNull();
  });
});
