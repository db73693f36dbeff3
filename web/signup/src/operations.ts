/** Every GraphQL operation of the Signup UI, named as the graph names its fields. */

export const VIEWER = /* GraphQL */ `
  query SignupViewer {
    viewer {
      __typename
      ... on Client {
        id
        name
        slug
      }
      ... on Subscriber {
        id
        phoneMasked
      }
    }
  }
`;

export const PUBLIC_PLANS = /* GraphQL */ `
  query PublicPlans {
    plans(first: 50) {
      totalCount
      nodes {
        id
        name
        description
        iconUrl
        features {
          messagesPerPeriod
          supportTier
          aiAssist
        }
        tiers {
          id
          name
          amount
          currency
          interval
        }
      }
    }
  }
`;

export const CREATE_CLIENT = /* GraphQL */ `
  mutation CreateClient($input: CreateClientInput!) {
    createClient(input: $input) {
      id
      name
      slug
    }
  }
`;

export const CREATE_CHECKOUT_SESSION = /* GraphQL */ `
  mutation CreateCheckoutSession($priceTierId: ID!, $discountCode: String, $idempotencyKey: String) {
    createCheckoutSession(priceTierId: $priceTierId, discountCode: $discountCode, idempotencyKey: $idempotencyKey) {
      id
      url
      status
    }
  }
`;

const SUBSCRIPTION_FIELDS = /* GraphQL */ `
  fragment ClientSubscription on Client {
    subscription {
      id
      status
      currentPeriodEnd
      cancelAtPeriodEnd
      pendingChangeAt
      trialEndsAt
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
      pendingPriceTier {
        id
        name
        plan {
          id
          name
        }
      }
    }
  }
`;

export const CHANGE_PLAN_SUBSCRIPTION = /* GraphQL */ `
  mutation ChangePlanSubscription($id: ID!, $priceTierId: ID!) {
    changePlanSubscription(id: $id, priceTierId: $priceTierId) {
      id
      pendingChangeAt
      pendingPriceTier {
        id
        name
        plan {
          id
          name
        }
      }
    }
  }
`;

export const CANCEL_PLAN_CHANGE = /* GraphQL */ `
  mutation CancelPlanChange($id: ID!) {
    cancelPlanChange(id: $id) {
      id
      pendingChangeAt
      pendingPriceTier {
        id
      }
    }
  }
`;

export const CLIENT_PLAN_STATUS = /* GraphQL */ `
  query ClientPlanStatus {
    viewer {
      __typename
      ... on Client {
        id
        ...ClientSubscription
      }
    }
  }
  ${SUBSCRIPTION_FIELDS}
`;

/** `browserTimeZone`: the browser's zone, the client's when their setting and number say none. */
export const CLIENT_DASHBOARD = /* GraphQL */ `
  query ClientDashboard($browserTimeZone: String) {
    viewer {
      __typename
      ... on Client {
        id
        name
        slug
        locale
        subscriberCount
        quietHours
        keyword
        timeZone(browserTimeZone: $browserTimeZone)
        timeZoneSet
        ...ClientSubscription
        allowance {
          active
          messagesPerPeriod
          used
          remaining
          state
          graceEndsAt
          graceDaysLeft
        }
        announcements(first: 20) {
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
            completedAt
          }
        }
      }
    }
  }
  ${SUBSCRIPTION_FIELDS}
`;

export const SET_QUIET_HOURS = /* GraphQL */ `
  mutation SetQuietHours($id: ID!, $on: Boolean!) {
    updateClient(id: $id, input: { quietHours: $on }) {
      id
      quietHours
    }
  }
`;

/** The word people text to join; "" removes it. */
export const SET_KEYWORD = /* GraphQL */ `
  mutation SetKeyword($id: ID!, $keyword: String!) {
    updateClient(id: $id, input: { keyword: $keyword }) {
      id
      keyword
    }
  }
`;

/** The zone the client's times are read in (IANA); "" goes back to the default. */
export const SET_TIME_ZONE = /* GraphQL */ `
  mutation SetTimeZone($id: ID!, $timeZone: String!, $browserTimeZone: String) {
    updateClient(id: $id, input: { timeZone: $timeZone }) {
      id
      timeZone(browserTimeZone: $browserTimeZone)
      timeZoneSet
    }
  }
`;

export const CLIENT_UPDATED = /* GraphQL */ `
  subscription ClientUpdated($id: ID!) {
    clientUpdated(id: $id) {
      id
      name
      slug
    }
  }
`;

export const CLIENT_BY_SLUG = /* GraphQL */ `
  query ClientPage($slug: String!) {
    clientBySlug(slug: $slug) {
      id
      name
      slug
    }
  }
`;

export const JOIN_CLIENT = /* GraphQL */ `
  mutation JoinClient($slug: String!) {
    joinClient(slug: $slug) {
      id
      status
      client {
        id
        name
      }
    }
  }
`;

export const MY_MEMBERSHIPS = /* GraphQL */ `
  query MyMemberships {
    viewer {
      __typename
      ... on Subscriber {
        id
        phoneMasked
        memberships {
          id
          status
          joinedAt
          stoppedAt
          client {
            id
            name
            slug
          }
        }
      }
    }
  }
`;

export const LEAVE_CLIENT = /* GraphQL */ `
  mutation LeaveClient($clientId: ID!) {
    leaveClient(clientId: $clientId) {
      id
      status
      stoppedAt
    }
  }
`;

export const PREVIEW_ANNOUNCEMENT = /* GraphQL */ `
  query PreviewAnnouncement($text: String!) {
    previewAnnouncement(text: $text) {
      copies {
        locale
        text
        segments
        recipients
      }
      recipients
      totalSegments
      allowanceLeft
      planActive
      maxCharacters
      refusal
    }
  }
`;

export const SEND_ANNOUNCEMENT = /* GraphQL */ `
  mutation SendAnnouncement($text: String!, $idempotencyKey: String!) {
    sendAnnouncement(text: $text, idempotencyKey: $idempotencyKey) {
      id
      body
      status
      recipients
    }
  }
`;

export const SCHEDULED_ANNOUNCEMENTS = /* GraphQL */ `
  query ScheduledAnnouncements {
    scheduledAnnouncements {
      id
      body
      sendAt
      timeZone
      status
      refusal
      refusedAt
    }
  }
`;

export const SCHEDULE_ANNOUNCEMENT = /* GraphQL */ `
  mutation ScheduleAnnouncement($text: String!, $sendAt: DateTime!, $timeZone: String) {
    scheduleAnnouncement(text: $text, sendAt: $sendAt, timeZone: $timeZone) {
      id
      body
      sendAt
      timeZone
      status
    }
  }
`;

export const CANCEL_SCHEDULED_ANNOUNCEMENT = /* GraphQL */ `
  mutation CancelScheduledAnnouncement($id: ID!) {
    cancelScheduledAnnouncement(id: $id) {
      id
      status
    }
  }
`;
