import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MONITORING_DIR, RULES_FILE } from '../../deploy/monitoring/queries';

/** Replaces `from` in `text`, and fails when it is not there (the shipped file changed). */
function replaced(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`"${from}" is no longer in deploy/monitoring: update the test's copy`);
  return text.split(from).join(to);
}

/**
 * deploy/monitoring's Prometheus configuration and rules copied into `dir` for a test: scrapes and
 * rule evaluations every second instead of every 10 s, and PodliveProcessDown's window 2 s instead
 * of 30 s; nothing else differs. Returns the configuration file's path.
 */
export async function prometheusCopy(dir: string): Promise<string> {
  await mkdir(join(dir, 'rules'), { recursive: true });
  await mkdir(join(dir, 'targets'), { recursive: true });
  let config = await readFile(join(MONITORING_DIR, 'prometheus.yml'), 'utf8');
  config = replaced(config, 'scrape_interval: 10s', 'scrape_interval: 1s');
  config = replaced(config, 'scrape_timeout: 5s', 'scrape_timeout: 1s');
  config = replaced(config, 'evaluation_interval: 10s', 'evaluation_interval: 1s');
  const rules = replaced(await readFile(RULES_FILE, 'utf8'), 'expr: up{job=~"server|sfu|recorder"} == 0\n        for: 30s', 'expr: up{job=~"server|sfu|recorder"} == 0\n        for: 2s');
  await writeFile(join(dir, 'prometheus.yml'), config);
  await writeFile(join(dir, 'rules', 'podlive.rules.yml'), rules);
  return join(dir, 'prometheus.yml');
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** The parts of Prometheus' HTTP API (v1) the monitoring test reads. */
export class PrometheusApi {
  readonly startedAt = Date.now();

  constructor(readonly url: string, readonly log: () => string) {}

  async #get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.url}${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if ((await fetch(`${this.url}/-/ready`).catch(() => null))?.ok) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`Prometheus not ready after ${timeoutMs} ms:\n${this.log()}`);
  }

  async query(q: string): Promise<Sample[]> {
    return (await this.#get<{ result: Sample[] }>('/api/v1/query', { query: q })).result;
  }

  /** The sum of an instant vector (0 when it is empty). */
  async scalar(q: string): Promise<number> {
    return (await this.query(q)).reduce((sum, s) => sum + Number(s.value[1]), 0);
  }

  /** `count by (job) (up == 1)`: the processes answering scrapes, per job. */
  async upByJob(): Promise<Record<string, number>> {
    return Object.fromEntries((await this.query('count by (job) (up == 1)')).map((s) => [s.metric.job!, Number(s.value[1])]));
  }

  async targets(): Promise<Array<{ scrapeUrl: string; labels: Record<string, string>; health: string }>> {
    return (await this.#get<{ activeTargets: Array<{ scrapeUrl: string; labels: Record<string, string>; health: string }> }>('/api/v1/targets')).activeTargets;
  }

  /** How many series each podlive_ metric has now. */
  async seriesPerMetric(): Promise<Record<string, number>> {
    return Object.fromEntries((await this.query('count by (__name__) ({__name__=~"podlive_.+"})')).map((s) => [s.metric.__name__!, Number(s.value[1])]));
  }

  /** The label sets of the series matching `match` seen over the last minute. */
  async series(match: string): Promise<Array<Record<string, string>>> {
    return this.#get('/api/v1/series', { 'match[]': match, start: String(Date.now() / 1000 - 60) });
  }

  /** Resolves once the SFU node `local` has been scraped `n` times after `t` (ms). */
  async scrapesAfter(t: number, n: number, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const stamp = await this.scalar('timestamp(up{job="sfu", instance="local"})');
      if (stamp * 1000 >= t + (n - 1) * 1000 + 500) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`no ${n} scrapes after ${new Date(t).toISOString()}`);
  }

  /** `job/instance` of each firing alert named `name`. */
  async firing(name: string): Promise<string[]> {
    const { alerts } = await this.#get<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('/api/v1/alerts');
    return alerts.filter((a) => a.labels.alertname === name && a.state === 'firing').map((a) => `${a.labels.job}/${a.labels.instance}`);
  }

  /** The `for` window of alert rule `name`, in seconds. */
  async ruleFor(name: string): Promise<number | undefined> {
    const { groups } = await this.#get<{ groups: Array<{ rules: Array<{ name: string; type: string; duration?: number }> }> }>('/api/v1/rules');
    return groups.flatMap((g) => g.rules).find((r) => r.type === 'alerting' && r.name === name)?.duration;
  }

  /** `q` over the test so far, every 2 s: [seconds since the test started, value]. */
  async range(q: string): Promise<[number, number][]> {
    const data = await this.#get<{ result: Array<{ values: [number, string][] }> }>('/api/v1/query_range', { query: q, start: String(this.startedAt / 1000), end: String(Date.now() / 1000), step: '2' });
    return (data.result[0]?.values ?? []).map(([t, v]) => [Math.round(t - this.startedAt / 1000), Number(v)]);
  }
}
