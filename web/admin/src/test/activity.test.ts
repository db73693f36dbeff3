import { describe, expect, it } from 'vitest';

import { countByDay, lastDays } from '../activity';

describe('daily activity', () => {
  it('adds each announcement and membership to its day, and ignores older ones', () => {
    const today = new Date(2026, 0, 10, 15);
    const days = lastDays(3, today);
    expect(days.map((d) => d.day)).toEqual(['2026-01-08', '2026-01-09', '2026-01-10']);
    const counted = countByDay(
      days,
      [
        { createdAt: new Date(2026, 0, 9, 9).toISOString(), confirmedAt: null, completedAt: new Date(2026, 0, 10, 8).toISOString(), sent: 5, delivered: 4, failed: 1 },
        { createdAt: new Date(2026, 0, 8, 9).toISOString(), confirmedAt: null, completedAt: null, sent: 2, delivered: 2, failed: 0 },
        { createdAt: new Date(2025, 11, 1).toISOString(), confirmedAt: null, completedAt: null, sent: 99, delivered: 99, failed: 0 },
      ],
      [new Date(2026, 0, 9, 10).toISOString(), new Date(2026, 0, 9, 11).toISOString()],
    );
    expect(counted.map((d) => [d.sent, d.delivered, d.failed, d.joined])).toEqual([
      [2, 2, 0, 0],
      [0, 0, 0, 2],
      [5, 4, 1, 0],
    ]);
  });
});
