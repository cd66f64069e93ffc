/** 75 → "1:15", 3725 → "1:02:05". */
export function formatDuration(totalSec: number): string {
  const s = Math.floor(totalSec);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** "3 watching", "1 watching". */
export const watching = (viewers: number) => `${viewers.toLocaleString('en')} watching`;

/** The time now as an ISO string (for state updated before the server's copy arrives). */
export const nowIso = (): string => new Date().toISOString();
