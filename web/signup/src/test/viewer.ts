/** The client the dashboard tests sign in as: an active allowance, no plan subscription and no
 * announcements yet; ``overrides`` replaces fields of it. */
export function clientViewer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    __typename: 'Client',
    id: 'c1',
    name: 'Trail Runners',
    slug: 'trail-runners',
    locale: 'en',
    subscriberCount: 3,
    quietHours: true,
    keyword: null,
    timeZone: 'America/Los_Angeles',
    timeZoneSet: false,
    subscription: null,
    allowance: { active: true, messagesPerPeriod: 1000, used: 0, remaining: 1000, state: 'ACTIVE', graceEndsAt: null, graceDaysLeft: null },
    announcements: { totalCount: 0, nodes: [] },
    ...overrides,
  };
}
