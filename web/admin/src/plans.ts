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
  | { kind: 'create'; interval: Interval; amount: number; currency: string; trialDays: number }
  | { kind: 'update'; id: string; interval: Interval; amount: number; currency: string; trialDays: number }
  | { kind: 'archive'; id: string; interval: Interval };

/** The longest free trial the API accepts (Stripe's limit for a checkout), in days. */
export const MAX_TRIAL_DAYS = 730;

/**
 * What to send so that the offered tiers become `wanted` (amount per interval; null = not
 * offered), each with its free trial in days (`trials`; missing = none). A new amount or
 * currency makes a new tier version; a new trial alone changes the tier in place.
 */
export function tierChanges(
  tiers: PriceTier[],
  wanted: Partial<Record<Interval, number | null>>,
  currency: string,
  trials: Partial<Record<Interval, number>> = {},
): TierChange[] {
  const offered = offeredTiers(tiers);
  const changes: TierChange[] = [];
  for (const interval of INTERVALS) {
    const existing = offered[interval];
    const amount = wanted[interval] ?? null;
    const trialDays = trials[interval] ?? 0;
    if (amount === null) {
      if (existing) changes.push({ kind: 'archive', id: existing.id, interval });
    } else if (!existing) {
      changes.push({ kind: 'create', interval, amount, currency, trialDays });
    } else if (
      existing.amount !== amount ||
      existing.currency.toLowerCase() !== currency.toLowerCase() ||
      existing.trialDays !== trialDays
    ) {
      changes.push({ kind: 'update', id: existing.id, interval, amount, currency, trialDays });
    }
  }
  return changes;
}
