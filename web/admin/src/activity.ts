/** Per-day figures for the dashboard chart. The graph has only running totals, so the days
 * are counted here from announcements (their sent / delivered / failed counts, on the day
 * they completed or were confirmed) and memberships (the day each joined). */

export interface Day {
  /** Local calendar day, YYYY-MM-DD. */
  day: string;
  sent: number;
  delivered: number;
  failed: number;
  joined: number;
}

export function dayOf(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

/** The last `count` days up to `today`, oldest first, all zero. */
export function lastDays(count: number, today: Date = new Date()): Day[] {
  const days: Day[] = [];
  for (let i = count - 1; i >= 0; i -= 1) {
    const date = new Date(today.getFullYear(), today.getMonth(), today.getDate() - i);
    days.push({ day: dayOf(date), sent: 0, delivered: 0, failed: 0, joined: 0 });
  }
  return days;
}

export interface AnnouncementCounts {
  createdAt: string;
  confirmedAt: string | null;
  completedAt: string | null;
  sent: number;
  delivered: number;
  failed: number;
}

/** `days` with the announcements' and memberships' figures added to the day they fall on. */
export function countByDay(
  days: Day[],
  announcements: AnnouncementCounts[],
  joinedAt: string[],
): Day[] {
  const index = new Map(days.map((d, i) => [d.day, i]));
  const result = days.map((d) => ({ ...d }));
  for (const a of announcements) {
    const at = index.get(dayOf(new Date(a.completedAt ?? a.confirmedAt ?? a.createdAt)));
    const day = at === undefined ? undefined : result[at];
    if (day) {
      day.sent += a.sent;
      day.delivered += a.delivered;
      day.failed += a.failed;
    }
  }
  for (const joined of joinedAt) {
    const at = index.get(dayOf(new Date(joined)));
    const day = at === undefined ? undefined : result[at];
    if (day) day.joined += 1;
  }
  return result;
}
