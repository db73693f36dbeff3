/** The shapes the Signup UI reads from the graph: named views of the operation types that
 * GraphQL Code Generator writes to generated/graphql.ts from schema.graphql (never by hand). */
import type * as G from './generated/graphql';

export type Interval = G.BillingInterval;

export type Viewer = NonNullable<G.SignupViewerQuery['viewer']>;

export type PublicPlan = G.PublicPlansQuery['plans']['nodes'][number];
export type PublicTier = PublicPlan['tiers'][number];

export type PlanSubscription = NonNullable<G.ClientSubscriptionFragment['subscription']>;

type ClientDashboard = Extract<NonNullable<G.ClientDashboardQuery['viewer']>, { __typename: 'Client' }>;
export type Announcement = ClientDashboard['announcements']['nodes'][number];

type SubscriberViewer = Extract<NonNullable<G.MyMembershipsQuery['viewer']>, { __typename: 'Subscriber' }>;
export type Membership = SubscriberViewer['memberships'][number];

export type AnnouncementPreview = G.PreviewAnnouncementQuery['previewAnnouncement'];
export type ScheduledAnnouncement = G.ScheduledAnnouncementsQuery['scheduledAnnouncements'][number];
