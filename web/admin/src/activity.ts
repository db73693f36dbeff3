/** The window of the dashboard's per-day series. The figures themselves come from the graph's
 * `dailyActivity` (counted in SQL by UserApi over the whole range, in the browser's time zone). */

export interface Day {
  /** Calendar day, YYYY-MM-DD. */
  day: string;
  messagesSent: number;
  messagesDelivered: number;
  messagesFailed: number;
  newSubscribers: number;
}

export function dayOf(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

/** The `dailyActivity` arguments of the last `count` days up to `today`, both included, in
 * the browser's time zone (UTC when it names none). */
export function lastDays(count: number, today: Date = new Date()): { from: string; to: string; timeZone: string } {
  const first = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (count - 1));
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  return { from: dayOf(first), to: dayOf(today), timeZone };
}
