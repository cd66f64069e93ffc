/** One scrape of a Prometheus endpoint, read as the text format's samples. */
export interface Scrape {
  status: number;
  /** The sample of one series, written as exposed (`name` or `name{label="value"}`); undefined when absent. */
  value(series: string): number | undefined;
  /** The sum of every series of `name`, whatever its labels; undefined when there is none. */
  sum(name: string): number | undefined;
}

/** GET http://address/metrics, with `token` as the bearer when given. */
export async function scrape(address: string, token?: string): Promise<Scrape> {
  const res = await fetch(`http://${address}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return {
    status: res.status,
    value: (series) => samples.get(series),
    sum: (name) => {
      const of = [...samples].filter(([series]) => series === name || series.startsWith(`${name}{`));
      return of.length === 0 ? undefined : of.reduce((n, [, v]) => n + v, 0);
    },
  };
}
