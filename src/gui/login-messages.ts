/** The words of the login page's refusals. */
export function LockoutMessage(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return `Too many failed logins: locked out for ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
