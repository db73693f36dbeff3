/** The shapes the Admin UI reads from the graph: named views of the operation types that
 * GraphQL Code Generator writes to generated/graphql.ts from schema.graphql (never by hand). */
import type { PageInfo } from '@nudges/shared/ui';
import type * as G from './generated/graphql';

export type Interval = G.BillingInterval;
export type SupportTier = G.SupportTier;
export type TierStatus = G.PriceTierStatus;

export interface Connection<T> {
  totalCount: number;
  pageInfo: PageInfo;
  nodes: T[];
}

export type PriceTier = G.TierFieldsFragment;
export type Plan = G.PlanFieldsFragment & { tiers: PriceTier[] };
export type DiscountCode = G.DiscountCodesQuery['discountCodes']['nodes'][number];
export type ClientRow = G.ClientsQuery['clients']['edges'][number]['node'];
export type Membership = G.MembershipPageFragment['nodes'][number];
export type Announcement = G.AnnouncementsQuery['announcements']['nodes'][number];
export type DeadLetter = G.DeadLettersQuery['deadLetters']['nodes'][number];
