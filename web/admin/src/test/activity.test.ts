import { describe, expect, it } from 'vitest';

import { lastDays } from '../activity';

describe('daily activity window', () => {
  it('asks for the last days up to today, both included, in the browser time zone', () => {
    const window = lastDays(14, new Date(2026, 0, 10, 15));
    expect(window.from).toBe('2025-12-28');
    expect(window.to).toBe('2026-01-10');
    expect(window.timeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});
