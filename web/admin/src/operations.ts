/** Every GraphQL operation of the Admin UI, named as the graph names its fields. */

export const VIEWER = /* GraphQL */ `
  query AdminViewer {
    viewer {
      __typename
      ... on Admin {
        id
      }
    }
  }
`;

export const USER_TOTALS = /* GraphQL */ `
  query UserTotals {
    userTotals {
      clients
      subscribers
      activeMemberships
      announcements
      messagesSent
      messagesDelivered
      messagesFailed
    }
  }
`;

export const PRODUCT_TOTALS = /* GraphQL */ `
  query ProductTotals {
    productTotals {
      activePlans
      activeSubscriptions
      pastDueSubscriptions
      canceledSubscriptions
      monthlyRecurringRevenue {
        amount
        currency
      }
    }
  }
`;

export const PAYMENT_TOTALS = /* GraphQL */ `
  query PaymentTotals {
    paymentTotals {
      confirmations
      revenue {
        currency
        amount
        confirmations
      }
    }
  }
`;

/** The announcements and memberships the daily chart is computed from. */
export const DAILY_ACTIVITY = /* GraphQL */ `
  query DailyActivity($from: Date!, $to: Date!, $timeZone: String!) {
    dailyActivity(from: $from, to: $to, timeZone: $timeZone) {
      day
      messagesSent
      messagesDelivered
      messagesFailed
      newSubscribers
    }
  }
`;

const PLAN_FIELDS = /* GraphQL */ `
  fragment PlanFields on Plan {
    id
    name
    description
    iconUrl
    active
    stripeProductId
    updatedAt
    features {
      messagesPerPeriod
      supportTier
      aiAssist
    }
  }
`;

const TIER_FIELDS = /* GraphQL */ `
  fragment TierFields on PriceTier {
    id
    name
    amount
    currency
    interval
    status
    version
    stripePriceId
    trialDays
  }
`;

export const PLANS = /* GraphQL */ `
  query AdminPlans($after: String) {
    allPlans(first: 50, after: $after, includeArchived: true) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...PlanFields
        tiers {
          ...TierFields
        }
      }
    }
  }
  ${PLAN_FIELDS}
  ${TIER_FIELDS}
`;

export const PLAN = /* GraphQL */ `
  query AdminPlan($id: ID!) {
    plan(id: $id) {
      ...PlanFields
      tiers(includeArchived: true) {
        ...TierFields
      }
    }
  }
  ${PLAN_FIELDS}
  ${TIER_FIELDS}
`;

export const PLAN_UPDATED = /* GraphQL */ `
  subscription PlanUpdated($id: ID) {
    planUpdated(id: $id) {
      ...PlanFields
      tiers {
        ...TierFields
      }
    }
  }
  ${PLAN_FIELDS}
  ${TIER_FIELDS}
`;

export const CREATE_PLAN = /* GraphQL */ `
  mutation CreatePlan($input: CreatePlanInput!) {
    createPlan(input: $input) {
      id
    }
  }
`;

export const UPDATE_PLAN = /* GraphQL */ `
  mutation UpdatePlan($id: ID!, $input: UpdatePlanInput!) {
    updatePlan(id: $id, input: $input) {
      id
    }
  }
`;

export const ARCHIVE_PLAN = /* GraphQL */ `
  mutation ArchivePlan($id: ID!) {
    archivePlan(id: $id) {
      id
      active
    }
  }
`;

export const REACTIVATE_PLAN = /* GraphQL */ `
  mutation ReactivatePlan($id: ID!) {
    reactivatePlan(id: $id) {
      id
      active
    }
  }
`;

export const CREATE_PRICE_TIER = /* GraphQL */ `
  mutation CreatePriceTier($planId: ID!, $input: CreatePriceTierInput!) {
    createPriceTier(planId: $planId, input: $input) {
      id
    }
  }
`;

export const UPDATE_PRICE_TIER = /* GraphQL */ `
  mutation UpdatePriceTier($id: ID!, $input: UpdatePriceTierInput!) {
    updatePriceTier(id: $id, input: $input) {
      id
    }
  }
`;

export const ARCHIVE_PRICE_TIER = /* GraphQL */ `
  mutation ArchivePriceTier($id: ID!) {
    archivePriceTier(id: $id) {
      id
      status
    }
  }
`;

export const DISCOUNT_CODES = /* GraphQL */ `
  query DiscountCodes($first: Int!, $after: String, $includeArchived: Boolean!) {
    discountCodes(first: $first, after: $after, includeArchived: $includeArchived) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        code
        percentOff
        amountOff
        currency
        duration
        durationInMonths
        maxRedemptions
        expiresAt
        active
        stripeCouponId
        stripePromotionCodeId
        createdAt
      }
    }
  }
`;

export const CREATE_DISCOUNT_CODE = /* GraphQL */ `
  mutation CreateDiscountCode($input: CreateDiscountCodeInput!) {
    createDiscountCode(input: $input) {
      id
      code
    }
  }
`;

export const ARCHIVE_DISCOUNT_CODE = /* GraphQL */ `
  mutation ArchiveDiscountCode($id: ID!) {
    archiveDiscountCode(id: $id) {
      id
      active
    }
  }
`;

export const CLIENTS = /* GraphQL */ `
  query Clients($first: Int!, $after: String, $search: String) {
    clients(first: $first, after: $after, search: $search) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          name
          slug
          locale
          createdAt
          subscriberCount
          stripeCustomerId
        }
      }
    }
  }
`;

export const CLIENT = /* GraphQL */ `
  query ClientDetail($id: ID!) {
    client(id: $id) {
      id
      name
      slug
      locale
      createdAt
      stripeCustomerId
      subscriberCount
      quietHours
      timeZone
      timeZoneSet
      subscription {
        id
        status
        currentPeriodEnd
        cancelAtPeriodEnd
        stripeSubscriptionId
        priceTier {
          id
          name
          amount
          currency
          interval
          plan {
            id
            name
          }
        }
      }
      announcements(first: 10) {
        totalCount
        nodes {
          id
          body
          status
          recipients
          sent
          delivered
          failed
          held
          createdAt
          confirmedAt
          completedAt
        }
      }
    }
  }
`;

export const CANCEL_PLAN_SUBSCRIPTION = /* GraphQL */ `
  mutation CancelPlanSubscription($id: ID!) {
    cancelPlanSubscription(id: $id) {
      id
      status
      cancelAtPeriodEnd
    }
  }
`;

const MEMBERSHIP_FIELDS = /* GraphQL */ `
  fragment MembershipPage on MembershipConnection {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      id
      status
      source
      joinedAt
      stoppedAt
      subscriber {
        id
        phoneMasked
        locale
      }
      client {
        id
        name
        slug
      }
    }
  }
`;

export const SUBSCRIBERS = /* GraphQL */ `
  query Subscribers($first: Int!, $after: String, $status: MembershipStatus) {
    subscribers(first: $first, after: $after, status: $status) {
      ...MembershipPage
    }
  }
  ${MEMBERSHIP_FIELDS}
`;

export const CLIENT_SUBSCRIBERS = /* GraphQL */ `
  query ClientSubscribers($id: ID!, $first: Int!, $after: String, $status: MembershipStatus) {
    client(id: $id) {
      id
      subscribers(first: $first, after: $after, status: $status) {
        ...MembershipPage
      }
    }
  }
  ${MEMBERSHIP_FIELDS}
`;

export const FIND_CLIENTS = /* GraphQL */ `
  query FindClients($search: String!) {
    clients(first: 10, search: $search) {
      totalCount
      nodes {
        id
        name
        slug
      }
    }
  }
`;

export const ANNOUNCEMENTS = /* GraphQL */ `
  query Announcements($first: Int!, $after: String) {
    announcements(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        body
        status
        recipients
        sent
        delivered
        failed
        held
        createdAt
        confirmedAt
        completedAt
        client {
          id
          name
        }
      }
    }
  }
`;

export const ANNOUNCEMENT_PROGRESS = /* GraphQL */ `
  subscription AnnouncementProgress($id: ID!) {
    announcementProgress(id: $id) {
      id
      status
      recipients
      sent
      delivered
      failed
      held
      completedAt
    }
  }
`;

/** Dead letters, in the shape the SPEC implies (nudges_kit.dlq.DeadLetter): not in the graph
 * until an admin field serves it; the page says so rather than showing anything made up. */
export const DEAD_LETTERS = /* GraphQL */ `
  query DeadLetters($first: Int!, $after: String) {
    deadLetters(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        topic
        partition
        offset
        key
        consumerGroup
        eventId
        eventType
        error
        errorType
        attempts
        failedAt
      }
    }
  }
`;

export const REPLAY_DEAD_LETTER = /* GraphQL */ `
  mutation ReplayDeadLetter($id: ID!) {
    replayDeadLetter(id: $id) {
      id
    }
  }
`;
