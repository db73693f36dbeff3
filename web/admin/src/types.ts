/** The shapes the Admin UI reads from the graph. */
import type { PageInfo } from '@nudges/shared/ui';

export type Interval = 'WEEK' | 'MONTH' | 'YEAR';
export type SupportTier = 'BASIC' | 'STANDARD' | 'PREMIUM';
export type TierStatus = 'ACTIVE' | 'INACTIVE' | 'ARCHIVED';

export interface Connection<T> {
  totalCount: number;
  pageInfo: PageInfo;
  nodes: T[];
}

export interface PriceTier {
  id: string;
  name: string;
  amount: number;
  currency: string;
  interval: Interval;
  status: TierStatus;
  version: number;
  stripePriceId: string | null;
}

export interface Plan {
  id: string;
  name: string;
  description: string;
  iconUrl: string | null;
  active: boolean;
  stripeProductId: string | null;
  updatedAt: string;
  features: { messagesPerPeriod: number; supportTier: SupportTier; aiAssist: boolean } | null;
  tiers: PriceTier[];
}

export interface DiscountCode {
  id: string;
  code: string;
  percentOff: number | null;
  amountOff: number | null;
  currency: string | null;
  duration: 'ONCE' | 'REPEATING' | 'FOREVER';
  durationInMonths: number | null;
  maxRedemptions: number | null;
  expiresAt: string | null;
  active: boolean;
  stripeCouponId: string | null;
  stripePromotionCodeId: string | null;
  createdAt: string;
}

export interface ClientRow {
  id: string;
  name: string;
  slug: string;
  locale: string;
  createdAt: string;
  subscriberCount: number;
  stripeCustomerId: string | null;
}

export interface Membership {
  id: string;
  status: 'ACTIVE' | 'STOPPED';
  source: string;
  joinedAt: string;
  stoppedAt: string | null;
  subscriber: { id: string; phoneMasked: string; locale: string } | null;
  client: { id: string; name: string; slug: string } | null;
}

export interface Announcement {
  id: string;
  body: string;
  status: 'DRAFT' | 'CONFIRMED' | 'SENDING' | 'SENT' | 'FAILED';
  recipients: number;
  sent: number;
  delivered: number;
  failed: number;
  createdAt: string;
  confirmedAt: string | null;
  completedAt: string | null;
  client: { id: string; name: string } | null;
}

export interface DeadLetter {
  id: string;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  consumerGroup: string;
  eventId: string | null;
  eventType: string | null;
  error: string;
  errorType: string;
  attempts: number;
  failedAt: string;
}
