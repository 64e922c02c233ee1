/**
 * Azure location names in their canonical compact form.
 *
 * ARM accepts `Japan East`, `JapanEast` and `japaneast` alike, and answers with either form depending on the field
 * (display names in `partnerRegions`, compact names in resource ids). Every comparison in fogpilot goes through
 * {@link normalizeLocation}.
 */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

export function sameLocation(a: string, b: string): boolean {
  return normalizeLocation(a) === normalizeLocation(b);
}

/** Letters, digits and spaces only, as Azure region names are; checked before normalizing. */
export const LOCATION_PATTERN = /^[A-Za-z][A-Za-z0-9 ]{1,49}$/;
