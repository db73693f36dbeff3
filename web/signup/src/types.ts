/** The shapes the Signup UI reads from the graph. */

export type Interval = 'WEEK' | 'MONTH' | 'YEAR';

export type Viewer =
  | { __typename: 'Client'; id: string; name: string; slug: string }
  | { __typename: 'Subscriber'; id: string; phoneMasked: string }
  | { __typename: 'Admin' };

export interface PublicTier {
  id: string;
  name: string;
  amount: number;
  currency: string;
  interval: Interval;
}

export interface PublicPlan {
  id: string;
  name: string;
  description: string;
  iconUrl: string | null;
  features: { messagesPerPeriod: number; supportTier: 'BASIC' | 'STANDARD' | 'PREMIUM'; aiAssist: boolean } | null;
  tiers: PublicTier[];
}

export interface PlanSubscription {
  id: string;
  status: 'INCOMPLETE' | 'ACTIVE' | 'PAST_DUE' | 'CANCELED';
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  priceTier: PublicTier & { plan: { id: string; name: string } };
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
  completedAt: string | null;
}

export interface Membership {
  id: string;
  status: 'ACTIVE' | 'STOPPED';
  joinedAt: string;
  stoppedAt: string | null;
  client: { id: string; name: string; slug: string } | null;
}
