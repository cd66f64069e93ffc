/** The body of `GET /health` on every PodLive process. */
export interface HealthReport {
  status: 'ok' | 'degraded';
  service: 'server' | 'sfu' | 'recorder' | 'web';
  version: string;
  uptimeSec: number;
  /** The process id (operators and the start-up test use it to check nothing is left behind). */
  pid: number;
  [detail: string]: unknown;
}

export function healthReport(service: HealthReport['service'], version: string, extra: Record<string, unknown> = {}): HealthReport {
  return { status: 'ok', service, version, uptimeSec: Math.floor(process.uptime()), pid: process.pid, ...extra };
}
