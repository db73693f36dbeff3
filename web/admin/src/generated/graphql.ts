/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type AnnouncementStatus =
  | 'CONFIRMED'
  | 'DRAFT'
  | 'FAILED'
  | 'SENDING'
  | 'SENT';

export type BillingInterval =
  | 'MONTH'
  | 'WEEK'
  | 'YEAR';

/** Exactly one of percentOff and amountOff (with currency). */
export type CreateDiscountCodeInput = {
  amountOff?: number | null | undefined;
  code: string;
  currency?: string | null | undefined;
  duration: DiscountDuration;
  durationInMonths?: number | null | undefined;
  expiresAt?: string | null | undefined;
  maxRedemptions?: number | null | undefined;
  percentOff?: number | null | undefined;
};

export type CreatePlanInput = {
  description?: string;
  features: PlanFeaturesInput;
  iconUrl?: string | null | undefined;
  name: string;
};

export type CreatePriceTierInput = {
  /** Minor units (cents); at least 0. */
  amount: number;
  /** ISO 4217 code, either case. */
  currency: string;
  interval: BillingInterval;
  name: string;
  /** Days of free trial a checkout starts with (0: none). */
  trialDays?: number;
};

export type DiscountDuration =
  | 'FOREVER'
  | 'ONCE'
  | 'REPEATING';

export type MembershipStatus =
  | 'ACTIVE'
  | 'STOPPED';

export type PlanFeaturesInput = {
  aiAssist?: boolean;
  messagesPerPeriod: number;
  supportTier: SupportTier;
};

export type PlanSubscriptionStatus =
  | 'ACTIVE'
  | 'CANCELED'
  | 'INCOMPLETE'
  | 'PAST_DUE';

export type PriceTierStatus =
  | 'ACTIVE'
  | 'ARCHIVED'
  | 'INACTIVE';

export type SupportTier =
  | 'BASIC'
  | 'PREMIUM'
  | 'STANDARD';

/** Omitted fields stay as they are; iconUrl null removes the icon. */
export type UpdatePlanInput = {
  description?: string | null | undefined;
  features?: PlanFeaturesInput | null | undefined;
  iconUrl?: string | null | undefined;
  name?: string | null | undefined;
};

/** A new amount, currency or interval creates a new tier version and archives this one; a new name or trialDays alone changes it in place. */
export type UpdatePriceTierInput = {
  amount?: number | null | undefined;
  currency?: string | null | undefined;
  interval?: BillingInterval | null | undefined;
  name?: string | null | undefined;
  /** Days of free trial later checkouts start with (0: none); subscriptions already started keep theirs. */
  trialDays?: number | null | undefined;
};

export type AdminViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminViewerQuery = { viewer:
    | { __typename: 'Admin', id: string }
    | { __typename: 'Client' }
    | { __typename: 'Subscriber' }
   | null };

export type UserTotalsQueryVariables = Exact<{ [key: string]: never; }>;


export type UserTotalsQuery = { userTotals: { clients: number, subscribers: number, activeMemberships: number, announcements: number, messagesSent: number, messagesDelivered: number, messagesFailed: number } };

export type ProductTotalsQueryVariables = Exact<{ [key: string]: never; }>;


export type ProductTotalsQuery = { productTotals: { activePlans: number, activeSubscriptions: number, pastDueSubscriptions: number, canceledSubscriptions: number, monthlyRecurringRevenue: Array<{ amount: number, currency: string }> } };

export type PaymentTotalsQueryVariables = Exact<{ [key: string]: never; }>;


export type PaymentTotalsQuery = { paymentTotals: { confirmations: number, revenue: Array<{ currency: string, amount: number, confirmations: number }> } };

export type DailyActivityQueryVariables = Exact<{
  from: string;
  to: string;
  timeZone: string;
}>;


export type DailyActivityQuery = { dailyActivity: Array<{ day: string, messagesSent: number, messagesDelivered: number, messagesFailed: number, newSubscribers: number }> };

export type PlanFieldsFragment = { id: string, name: string, description: string, iconUrl: string | null, active: boolean, stripeProductId: string | null, updatedAt: string, features: { messagesPerPeriod: number, supportTier: SupportTier, aiAssist: boolean } | null };

export type TierFieldsFragment = { id: string, name: string, amount: number, currency: string, interval: BillingInterval, status: PriceTierStatus, version: number, stripePriceId: string | null, trialDays: number };

export type AdminPlansQueryVariables = Exact<{
  after?: string | null | undefined;
}>;


export type AdminPlansQuery = { allPlans: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, name: string, description: string, iconUrl: string | null, active: boolean, stripeProductId: string | null, updatedAt: string, tiers: Array<{ id: string, name: string, amount: number, currency: string, interval: BillingInterval, status: PriceTierStatus, version: number, stripePriceId: string | null, trialDays: number }>, features: { messagesPerPeriod: number, supportTier: SupportTier, aiAssist: boolean } | null }> } };

export type AdminPlanQueryVariables = Exact<{
  id: string | number;
}>;


export type AdminPlanQuery = { plan: { id: string, name: string, description: string, iconUrl: string | null, active: boolean, stripeProductId: string | null, updatedAt: string, tiers: Array<{ id: string, name: string, amount: number, currency: string, interval: BillingInterval, status: PriceTierStatus, version: number, stripePriceId: string | null, trialDays: number }>, features: { messagesPerPeriod: number, supportTier: SupportTier, aiAssist: boolean } | null } };

export type PlanUpdatedSubscriptionVariables = Exact<{
  id?: string | number | null | undefined;
}>;


export type PlanUpdatedSubscription = { planUpdated: { id: string, name: string, description: string, iconUrl: string | null, active: boolean, stripeProductId: string | null, updatedAt: string, tiers: Array<{ id: string, name: string, amount: number, currency: string, interval: BillingInterval, status: PriceTierStatus, version: number, stripePriceId: string | null, trialDays: number }>, features: { messagesPerPeriod: number, supportTier: SupportTier, aiAssist: boolean } | null } };

export type CreatePlanMutationVariables = Exact<{
  input: CreatePlanInput;
}>;


export type CreatePlanMutation = { createPlan: { id: string } };

export type UpdatePlanMutationVariables = Exact<{
  id: string | number;
  input: UpdatePlanInput;
}>;


export type UpdatePlanMutation = { updatePlan: { id: string } };

export type ArchivePlanMutationVariables = Exact<{
  id: string | number;
}>;


export type ArchivePlanMutation = { archivePlan: { id: string, active: boolean } };

export type ReactivatePlanMutationVariables = Exact<{
  id: string | number;
}>;


export type ReactivatePlanMutation = { reactivatePlan: { id: string, active: boolean } };

export type CreatePriceTierMutationVariables = Exact<{
  planId: string | number;
  input: CreatePriceTierInput;
}>;


export type CreatePriceTierMutation = { createPriceTier: { id: string } };

export type UpdatePriceTierMutationVariables = Exact<{
  id: string | number;
  input: UpdatePriceTierInput;
}>;


export type UpdatePriceTierMutation = { updatePriceTier: { id: string } };

export type ArchivePriceTierMutationVariables = Exact<{
  id: string | number;
}>;


export type ArchivePriceTierMutation = { archivePriceTier: { id: string, status: PriceTierStatus } };

export type DiscountCodesQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  includeArchived: boolean;
}>;


export type DiscountCodesQuery = { discountCodes: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, code: string, percentOff: number | null, amountOff: number | null, currency: string | null, duration: DiscountDuration, durationInMonths: number | null, maxRedemptions: number | null, expiresAt: string | null, active: boolean, stripeCouponId: string | null, stripePromotionCodeId: string | null, createdAt: string }> } };

export type CreateDiscountCodeMutationVariables = Exact<{
  input: CreateDiscountCodeInput;
}>;


export type CreateDiscountCodeMutation = { createDiscountCode: { id: string, code: string } };

export type ArchiveDiscountCodeMutationVariables = Exact<{
  id: string | number;
}>;


export type ArchiveDiscountCodeMutation = { archiveDiscountCode: { id: string, active: boolean } };

export type ClientsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  search?: string | null | undefined;
}>;


export type ClientsQuery = { clients: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, name: string, slug: string, locale: string, createdAt: string, subscriberCount: number, stripeCustomerId: string | null } }> } };

export type ClientDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type ClientDetailQuery = { client: { id: string, name: string, slug: string, locale: string, createdAt: string, stripeCustomerId: string | null, subscriberCount: number, quietHours: boolean, timeZone: string, timeZoneSet: boolean, subscription: { id: string, status: PlanSubscriptionStatus, currentPeriodEnd: string | null, cancelAtPeriodEnd: boolean, stripeSubscriptionId: string, priceTier: { id: string, name: string, amount: number, currency: string, interval: BillingInterval, plan: { id: string, name: string } } } | null, announcements: { totalCount: number, nodes: Array<{ id: string, body: string, status: AnnouncementStatus, recipients: number, sent: number, delivered: number, failed: number, held: number, createdAt: string, confirmedAt: string | null, completedAt: string | null }> } } | null };

export type CancelPlanSubscriptionMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelPlanSubscriptionMutation = { cancelPlanSubscription: { id: string, status: PlanSubscriptionStatus, cancelAtPeriodEnd: boolean } };

export type MembershipPageFragment = { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, status: MembershipStatus, source: string, joinedAt: string, stoppedAt: string | null, subscriber: { id: string, phoneMasked: string, locale: string } | null, client: { id: string, name: string, slug: string } | null }> };

export type SubscribersQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  status?: MembershipStatus | null | undefined;
}>;


export type SubscribersQuery = { subscribers: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, status: MembershipStatus, source: string, joinedAt: string, stoppedAt: string | null, subscriber: { id: string, phoneMasked: string, locale: string } | null, client: { id: string, name: string, slug: string } | null }> } };

export type ClientSubscribersQueryVariables = Exact<{
  id: string | number;
  first: number;
  after?: string | null | undefined;
  status?: MembershipStatus | null | undefined;
}>;


export type ClientSubscribersQuery = { client: { id: string, subscribers: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, status: MembershipStatus, source: string, joinedAt: string, stoppedAt: string | null, subscriber: { id: string, phoneMasked: string, locale: string } | null, client: { id: string, name: string, slug: string } | null }> } } | null };

export type FindClientsQueryVariables = Exact<{
  search: string;
}>;


export type FindClientsQuery = { clients: { totalCount: number, nodes: Array<{ id: string, name: string, slug: string }> } };

export type AnnouncementsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type AnnouncementsQuery = { announcements: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, body: string, status: AnnouncementStatus, recipients: number, sent: number, delivered: number, failed: number, held: number, createdAt: string, confirmedAt: string | null, completedAt: string | null, client: { id: string, name: string } | null }> } };

export type AnnouncementProgressSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type AnnouncementProgressSubscription = { announcementProgress: { id: string, status: AnnouncementStatus, recipients: number, sent: number, delivered: number, failed: number, held: number, completedAt: string | null } };

export type DeadLettersQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type DeadLettersQuery = { deadLetters: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, topic: string, partition: number, offset: number, key: string | null, consumerGroup: string, eventId: string | null, eventType: string | null, error: string, errorType: string, attempts: number, failedAt: string }> } };

export type ReplayDeadLetterMutationVariables = Exact<{
  id: string | number;
}>;


export type ReplayDeadLetterMutation = { replayDeadLetter: { id: string } };
