/** Plan editing decisions that need no server: tiers by interval, and what saving changes. */
import type { Interval, PriceTier } from './types';

export const INTERVALS: Interval[] = ['WEEK', 'MONTH', 'YEAR'];

/** The tier on offer for each interval (the newest active version). */
export function offeredTiers(tiers: PriceTier[]): Partial<Record<Interval, PriceTier>> {
  const offered: Partial<Record<Interval, PriceTier>> = {};
  for (const tier of tiers) {
    if (tier.status !== 'ACTIVE') continue;
    const current = offered[tier.interval];
    if (!current || tier.version > current.version) offered[tier.interval] = tier;
  }
  return offered;
}

export type TierChange =
  | { kind: 'create'; interval: Interval; amount: number; currency: string }
  | { kind: 'update'; id: string; interval: Interval; amount: number; currency: string }
  | { kind: 'archive'; id: string; interval: Interval };

/** What to send so that the offered tiers become `wanted` (amount per interval; null = not offered). */
export function tierChanges(
  tiers: PriceTier[],
  wanted: Partial<Record<Interval, number | null>>,
  currency: string,
): TierChange[] {
  const offered = offeredTiers(tiers);
  const changes: TierChange[] = [];
  for (const interval of INTERVALS) {
    const existing = offered[interval];
    const amount = wanted[interval] ?? null;
    if (amount === null) {
      if (existing) changes.push({ kind: 'archive', id: existing.id, interval });
    } else if (!existing) {
      changes.push({ kind: 'create', interval, amount, currency });
    } else if (existing.amount !== amount || existing.currency.toLowerCase() !== currency.toLowerCase()) {
      changes.push({ kind: 'update', id: existing.id, interval, amount, currency });
    }
  }
  return changes;
}
