/** `s` as a regular-expression source that matches exactly `s` (module paths in patterns). */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
