/** The appliance's time zone (TZ, else the system's): report days and "today" use it. */
export function appTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
