/** Small SVG charts written as strings (no charting library in the workspace). */
const W = 560;
const H = 300;
const M = { l: 60, r: 20, t: 36, b: 48 };
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (n: number) => (Math.abs(n) >= 1000 ? `${Math.round(n / 100) / 10}k` : `${Math.round(n * 10) / 10}`);

function frame(title: string, xLabel: string, yLabel: string, yMax: number, body: string): string {
  const ticks = Array.from({ length: 5 }, (_, i) => (yMax * i) / 4);
  const y = (v: number) => H - M.b - ((H - M.t - M.b) * v) / yMax;
  const grid = ticks.map((t) => `<line x1="${M.l}" x2="${W - M.r}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/><text x="${M.l - 6}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>
${grid}
<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" stroke="#111"/><line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#111"/>
<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(14 ${H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
${body}
</svg>
`;
}

const niceMax = (v: number) => {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v * 1.05) ?? 10 * p;
};

export interface Series {
  name: string;
  points: [number, number][];
}

export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const xMax = niceMax(Math.max(...xs, 1));
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p[1])), 1));
  const x = (v: number) => M.l + ((W - M.l - M.r) * v) / xMax;
  const y = (v: number) => H - M.b - ((H - M.t - M.b) * v) / yMax;
  const xt = Array.from({ length: 5 }, (_, i) => (xMax * i) / 4).map((t) => `<text x="${x(t)}" y="${H - M.b + 14}" text-anchor="middle">${fmt(t)}</text>`).join('');
  const lines = series.map((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = s.points.map(([a, b]) => `${x(a)},${y(b)}`).join(' ');
    const dots = s.points.map(([a, b]) => `<circle cx="${x(a)}" cy="${y(b)}" r="3" fill="${c}"/>`).join('');
    return `<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"/>${dots}<text x="${M.l + 10}" y="${M.t + 14 + i * 14}" fill="${c}">${esc(s.name)}</text>`;
  }).join('\n');
  return frame(title, xLabel, yLabel, yMax, xt + lines);
}

export interface Group {
  label: string;
  values: { name: string; value: number }[];
}

export function barChart(title: string, yLabel: string, groups: Group[]): string {
  const yMax = niceMax(Math.max(...groups.flatMap((g) => g.values.map((v) => (Number.isFinite(v.value) ? v.value : 0))), 1));
  const y = (v: number) => H - M.b - ((H - M.t - M.b) * v) / yMax;
  const gw = (W - M.l - M.r) / Math.max(groups.length, 1);
  const names = [...new Set(groups.flatMap((g) => g.values.map((v) => v.name)))];
  const bw = (gw * 0.8) / Math.max(names.length, 1);
  const bars = groups.map((g, gi) => {
    const x0 = M.l + gi * gw + gw * 0.1;
    const rects = g.values.map((v) => {
      const i = names.indexOf(v.name);
      const val = Number.isFinite(v.value) ? v.value : 0;
      return `<rect x="${x0 + i * bw}" y="${y(val)}" width="${bw - 2}" height="${H - M.b - y(val)}" fill="${COLORS[i % COLORS.length]}"/><text x="${x0 + i * bw + bw / 2}" y="${y(val) - 3}" text-anchor="middle" font-size="9">${fmt(val)}</text>`;
    }).join('');
    return `${rects}<text x="${x0 + gw * 0.4}" y="${H - M.b + 14}" text-anchor="middle">${esc(g.label)}</text>`;
  }).join('\n');
  const legend = names.map((n, i) => `<text x="${W - M.r - 4}" y="${M.t + 10 + i * 13}" text-anchor="end" fill="${COLORS[i % COLORS.length]}">${esc(n)}</text>`).join('');
  return frame(title, '', yLabel, yMax, bars + legend);
}
