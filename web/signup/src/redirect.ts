/** Leaving the app for another site (Stripe's hosted checkout): one place, so tests can watch it. */
export function leaveFor(url: string): void {
  window.location.assign(url);
}
