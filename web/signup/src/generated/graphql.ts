/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** Why an announcement cannot be sent now (as CONFIRM refuses it). */
export type AnnouncementRefusal =
  | 'ALLOWANCE_EXCEEDED'
  | 'NO_ACTIVE_PLAN'
  | 'NO_SUBSCRIBERS'
  | 'TOO_LONG';

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

/** Where a checkout session stands. */
export type CheckoutSessionStatus =
  | 'COMPLETE'
  | 'EXPIRED'
  | 'OPEN';

export type CreateClientInput = {
  locale?: string | null | undefined;
  name: string;
  slug?: string | null | undefined;
};

export type MembershipStatus =
  | 'ACTIVE'
  | 'STOPPED';

/** Whether a client's plan lets them send now. */
export type PlanState =
  /** Paid: sending. */
  | 'ACTIVE'
  /** Past due, within the grace period: still sending. */
  | 'GRACE'
  /** Past due beyond the grace period: not sending until paid. */
  | 'LAPSED'
  /** No plan that grants messages. */
  | 'NONE';

export type PlanSubscriptionStatus =
  | 'ACTIVE'
  | 'CANCELED'
  | 'INCOMPLETE'
  | 'PAST_DUE';

export type ScheduleStatus =
  | 'CANCELED'
  | 'REFUSED'
  | 'SCHEDULED'
  | 'STARTED';

export type SupportTier =
  | 'BASIC'
  | 'PREMIUM'
  | 'STANDARD';

export type SignupViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type SignupViewerQuery = { viewer:
    | { __typename: 'Admin' }
    | { __typename: 'Client', id: string, name: string, slug: string }
    | { __typename: 'Subscriber', id: string, phoneMasked: string }
   | null };

export type PublicPlansQueryVariables = Exact<{ [key: string]: never; }>;


export type PublicPlansQuery = { plans: { totalCount: number, nodes: Array<{ id: string, name: string, description: string, iconUrl: string | null, features: { messagesPerPeriod: number, supportTier: SupportTier, aiAssist: boolean } | null, tiers: Array<{ id: string, name: string, amount: number, currency: string, interval: BillingInterval }> }> } };

export type CreateClientMutationVariables = Exact<{
  input: CreateClientInput;
}>;


export type CreateClientMutation = { createClient: { id: string, name: string, slug: string } };

export type CreateCheckoutSessionMutationVariables = Exact<{
  priceTierId: string | number;
  discountCode?: string | null | undefined;
  idempotencyKey?: string | null | undefined;
}>;


export type CreateCheckoutSessionMutation = { createCheckoutSession: { id: string, url: string, status: CheckoutSessionStatus } };

export type ClientSubscriptionFragment = { subscription: { id: string, status: PlanSubscriptionStatus, currentPeriodEnd: string | null, cancelAtPeriodEnd: boolean, pendingChangeAt: string | null, trialEndsAt: string | null, priceTier: { id: string, name: string, amount: number, currency: string, interval: BillingInterval, plan: { id: string, name: string } }, pendingPriceTier: { id: string, name: string, plan: { id: string, name: string } } | null } | null };

export type ChangePlanSubscriptionMutationVariables = Exact<{
  id: string | number;
  priceTierId: string | number;
}>;


export type ChangePlanSubscriptionMutation = { changePlanSubscription: { id: string, pendingChangeAt: string | null, pendingPriceTier: { id: string, name: string, plan: { id: string, name: string } } | null } };

export type CancelPlanChangeMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelPlanChangeMutation = { cancelPlanChange: { id: string, pendingChangeAt: string | null, pendingPriceTier: { id: string } | null } };

export type ClientPlanStatusQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientPlanStatusQuery = { viewer:
    | { __typename: 'Admin' }
    | { __typename: 'Client', id: string, subscription: { id: string, status: PlanSubscriptionStatus, currentPeriodEnd: string | null, cancelAtPeriodEnd: boolean, pendingChangeAt: string | null, trialEndsAt: string | null, priceTier: { id: string, name: string, amount: number, currency: string, interval: BillingInterval, plan: { id: string, name: string } }, pendingPriceTier: { id: string, name: string, plan: { id: string, name: string } } | null } | null }
    | { __typename: 'Subscriber' }
   | null };

export type ClientDashboardQueryVariables = Exact<{
  browserTimeZone?: string | null | undefined;
}>;


export type ClientDashboardQuery = { viewer:
    | { __typename: 'Admin' }
    | { __typename: 'Client', id: string, name: string, slug: string, locale: string, subscriberCount: number, quietHours: boolean, keyword: string | null, timeZone: string, timeZoneSet: boolean, allowance: { active: boolean, messagesPerPeriod: number, used: number, remaining: number, state: PlanState, graceEndsAt: string | null, graceDaysLeft: number | null }, announcements: { totalCount: number, nodes: Array<{ id: string, body: string, status: AnnouncementStatus, recipients: number, sent: number, delivered: number, failed: number, held: number, createdAt: string, completedAt: string | null }> }, subscription: { id: string, status: PlanSubscriptionStatus, currentPeriodEnd: string | null, cancelAtPeriodEnd: boolean, pendingChangeAt: string | null, trialEndsAt: string | null, priceTier: { id: string, name: string, amount: number, currency: string, interval: BillingInterval, plan: { id: string, name: string } }, pendingPriceTier: { id: string, name: string, plan: { id: string, name: string } } | null } | null }
    | { __typename: 'Subscriber' }
   | null };

export type SetQuietHoursMutationVariables = Exact<{
  id: string | number;
  on: boolean;
}>;


export type SetQuietHoursMutation = { updateClient: { id: string, quietHours: boolean } };

export type SetKeywordMutationVariables = Exact<{
  id: string | number;
  keyword: string;
}>;


export type SetKeywordMutation = { updateClient: { id: string, keyword: string | null } };

export type SetTimeZoneMutationVariables = Exact<{
  id: string | number;
  timeZone: string;
  browserTimeZone?: string | null | undefined;
}>;


export type SetTimeZoneMutation = { updateClient: { id: string, timeZone: string, timeZoneSet: boolean } };

export type ClientUpdatedSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type ClientUpdatedSubscription = { clientUpdated: { id: string, name: string, slug: string } };

export type ClientPageQueryVariables = Exact<{
  slug: string;
}>;


export type ClientPageQuery = { clientBySlug: { id: string, name: string, slug: string } | null };

export type JoinClientMutationVariables = Exact<{
  slug: string;
}>;


export type JoinClientMutation = { joinClient: { id: string, status: MembershipStatus, client: { id: string, name: string } | null } };

export type MyMembershipsQueryVariables = Exact<{ [key: string]: never; }>;


export type MyMembershipsQuery = { viewer:
    | { __typename: 'Admin' }
    | { __typename: 'Client' }
    | { __typename: 'Subscriber', id: string, phoneMasked: string, memberships: Array<{ id: string, status: MembershipStatus, joinedAt: string, stoppedAt: string | null, client: { id: string, name: string, slug: string } | null }> }
   | null };

export type LeaveClientMutationVariables = Exact<{
  clientId: string | number;
}>;


export type LeaveClientMutation = { leaveClient: { id: string, status: MembershipStatus, stoppedAt: string | null } };

export type PreviewAnnouncementQueryVariables = Exact<{
  text: string;
}>;


export type PreviewAnnouncementQuery = { previewAnnouncement: { recipients: number, totalSegments: number, allowanceLeft: number, planActive: boolean, maxCharacters: number, refusal: AnnouncementRefusal | null, copies: Array<{ locale: string, text: string, segments: number, recipients: number }> } };

export type SendAnnouncementMutationVariables = Exact<{
  text: string;
  idempotencyKey: string;
}>;


export type SendAnnouncementMutation = { sendAnnouncement: { id: string, body: string, status: AnnouncementStatus, recipients: number } };

export type ScheduledAnnouncementsQueryVariables = Exact<{ [key: string]: never; }>;


export type ScheduledAnnouncementsQuery = { scheduledAnnouncements: Array<{ id: string, body: string, sendAt: string, timeZone: string, status: ScheduleStatus, refusal: AnnouncementRefusal | null, refusedAt: string | null }> };

export type ScheduleAnnouncementMutationVariables = Exact<{
  text: string;
  sendAt: string;
  timeZone?: string | null | undefined;
}>;


export type ScheduleAnnouncementMutation = { scheduleAnnouncement: { id: string, body: string, sendAt: string, timeZone: string, status: ScheduleStatus } };

export type CancelScheduledAnnouncementMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelScheduledAnnouncementMutation = { cancelScheduledAnnouncement: { id: string, status: ScheduleStatus } };
