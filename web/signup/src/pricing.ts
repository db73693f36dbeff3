/** Choosing among plans: the tier of an interval, and the cheapest way in. */
import { z } from 'zod/mini';

import type { Interval, PublicPlan, PublicTier } from './types';

export const INTERVALS: Interval[] = ['WEEK', 'MONTH', 'YEAR'];

export function tierFor(plan: PublicPlan, interval: Interval): PublicTier | undefined {
  return plan.tiers.filter((t) => t.interval === interval).sort((a, b) => a.amount - b.amount)[0];
}

/** The lowest monthly price on offer (for the landing page), if any plan has one. */
export function lowestMonthly(plans: PublicPlan[]): PublicTier | undefined {
  return plans
    .map((p) => tierFor(p, 'MONTH'))
    .filter((t): t is PublicTier => t !== undefined)
    .sort((a, b) => a.amount - b.amount)[0];
}

/** Intervals at least one plan is sold in, in the switch's order. */
export function offeredIntervals(plans: PublicPlan[]): Interval[] {
  return INTERVALS.filter((i) => plans.some((p) => tierFor(p, i)));
}

/** A discount code as the form checks it before checkout (empty: none); messages are i18n ids. */
export const discountCodeSchema = z
  .string()
  .check(z.trim(), z.refine((code) => !code || /^[A-Za-z0-9_-]{3,40}$/.test(code), 'plans.discountInvalid'));

/** A URL-safe address from a name: "Trail Runners!" → "trail-runners". */
export function slugOf(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

/** A client page's address: 3 to 40 lower-case letters, digits and inner hyphens. */
export const slugSchema = z
  .string()
  .check(z.trim(), z.minLength(1, 'validation.required'), z.regex(/^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/, 'signup.slugInvalid'));
