/** Reads results/*.json and writes REPORT.md, plots/*.svg and the README's benchmark table. */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, type BenchResult, type Machine } from './lib/result';
import type { Summary } from './lib/stats';
import { barChart, lineChart } from './lib/svg';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

interface Throttle { periods: number; throttled: number; throttledPercent: number; throttledMsPerSec: number; cgroupCpuPercent: number }
interface Step { viewers: number; consumers: number; quota?: number | null; workerCpuPercent: number; cpuOfQuotaPercent?: number | null; packetsOutPerSec: number; workerRssMiB: number; rssKiBPerConsumer: number; loss: number; testerCpuPercent: number; otherCpuPercent?: number; stealPercent?: number; throttle?: Throttle | null; stopReason?: string }
interface Capacity { atStep: number; consumersMeasured: number; workerCpuPercent: number; quota?: number | null; cpuOfQuotaPercent?: number | null; consumersPerCore: number; packetsOutPerSecPerCore: number; rssKiBPerConsumer: number; basis?: 'saturated' | 'below saturation' | 'extrapolated'; extrapolated: boolean }
interface Linear { consumersPerCore: number; packetsOutPerSecPerCore: number }
interface FanoutMode { reference?: Step; linear?: Linear; steps: Step[]; capacity: Capacity | null; ratioToLinear?: number | null; ceiling?: Step | null; ceilingLinear?: Linear | null; ratioToCeilingLinear?: number | null }
interface Fanout { quota?: { share: number; periodUs: number; cgroupVersion?: number } | null; contention?: string[]; video: FanoutMode; listen: FanoutMode; listenVsVideoConsumersPerCore: number | null }
type Mode = 'video' | 'listen';
interface G2g { oneNode: Summary & { unreadable: number }; crossNode: (Summary & { unreadable: number }) | null; ratioCrossToOne: { p50: number; p95: number; p99: number } | null }
interface Stage { n: number; invitesAccepted: number; eventsReceived: number; inviteToEventMs: Summary; serverCpuMsPerInvite?: number; loadAverage1m?: number; floorMs?: Summary }
interface Lighthouse { runs: number; loadAverage: { start: number; end: number }; pages: { page: string; path: string; scores: Record<'performance' | 'accessibility' | 'best-practices' | 'seo', number>; metrics: Record<string, number> }[] }
interface Cp { endpoints: (Summary & { endpoint: string; rate: number; seconds: number; errors: number; achievedRate: number })[]; ws: { requested: number; held: number; errors: number; serverRssBeforeMiB: number; serverRssAfterMiB: number; kiBPerConnection: number } }
interface Join { tokenToFirstFrameMs: Summary; navigationToFirstFrameMs: Summary; headless?: { viewers: { requested: number; joined: number; receiving: number }; rate: number; joinMs: { p50: number; p95: number; p99: number } }; loadAverage?: { chromium: number[]; headless: number[] } }
interface Rec {
  studio?: { liveSeconds: number; firstRecordedFrameMs: number; durationErrorSec: number; renditions: { name: string; firstFrameMs: number; durationErrorSec: number }[]; loadAverageBefore: number[]; machineCpuBusyPercent: number };
  live: { renditions: number; ffmpegProcesses: number; ffmpegCpuPercentOfCore: number; nodeProcessCpuPercentOfCore: number; stopMs: number };
  tenMinutes: { durationSec: number; sizeBytes: number; renditions: string[]; finishMs: number; endLiveToPlayableMs: number; endLiveToAllRenditionsMs: number } | null;
}

interface Viewers100k {
  viewers: number; rate: number; rampSeconds: number; achievedPerSecond: number; skippedOverInFlightCap: number; replicas: number;
  fleet: { nodes: number; workersPerNode: number; consumersPerWorker: number; capacityViewersPerNode: number; fanout: number };
  tokenMs: Summary; tokenWebRtcMs: Summary; webrtc: number; hls: number; failed: number; failedStatuses: number[]; nodesUsed: number;
  maxConsumersOverCapacity: number; nodesAboveCapacity: string[];
  origin: { id: string; feeds: number; egressMbps: number; withoutTreeMbps: number };
  hlsOrigin: { perCacheRequestsPerSecond: number; withoutCacheRequestsPerSecond: number; caches: { caches: number; requestsPerSecond: number }[] };
  serverCpuMsPerToken: number; loadAverage: number[];
  perSecond: { second: number; webrtc: number; hls: number; p99Ms: number }[];
}

const p = (s: Summary | undefined) => (s && s.n ? `p50 ${s.p50} · p95 ${s.p95} · p99 ${s.p99} ms (n=${s.n})` : 'not measured');
const machineLine = (m: Machine) => `${m.cpuModel}, ${m.cores} cores, ${m.memGiB} GiB, ${m.os}, Node ${m.node}, commit ${m.commit}, ${m.date.slice(0, 16).replace('T', ' ')} UTC`;

export async function writeReport(): Promise<void> {
  const results = new Map<string, BenchResult>();
  for (const f of (await readdir(RESULTS_DIR)).filter((n) => n.endsWith('.json') && n !== 'run.json')) {
    const r = JSON.parse(await readFile(`${RESULTS_DIR}${f}`, 'utf8')) as BenchResult;
    results.set(r.name, r);
  }
  const run = JSON.parse(await readFile(`${RESULTS_DIR}run.json`, 'utf8').catch(() => '{}')) as { totalSeconds?: number; machine?: Machine };
  await mkdir(`${HERE}plots`, { recursive: true });
  const plot = async (name: string, svg: string) => {
    await writeFile(`${HERE}plots/${name}.svg`, svg);
    return `![${name}](plots/${name}.svg)`;
  };
  const md: string[] = ['# PodLive benchmark report', '', `Generated by \`npm run bench\` (deploy/bench/run.ts)${run.totalSeconds ? ` in ${Math.round(run.totalSeconds / 6) / 10} min` : ''}.`, ''];
  if (run.machine) md.push(`**Machine:** ${machineLine(run.machine)}. Everything (SFU, testers, Chromium) shares this machine, so the testers' own CPU is part of every figure.`, '');
  const rows: string[] = [];
  const section = (r: BenchResult | undefined, title: string) => {
    md.push(`## ${title}`, '');
    if (!r) return md.push('Not measured: no result file.', '');
    md.push(`*Machine:* ${machineLine(r.machine)} · ${r.wallSeconds} s`, '', `*Method:* ${r.method}`, '');
    for (const n of r.notMeasured) md.push(`- **${n}**`);
    if (r.notMeasured.length) md.push('');
    return undefined;
  };

  const fan = results.get('fanout');
  section(fan, '1. Fan-out capacity per worker core');
  const fd = fan?.data as Fanout | null | undefined;
  if (fd) {
    const pct = (share: number | null | undefined) => (share ? `${Math.round(share * 1000) / 10} %` : 'none');
    const stepRow = (s: Step, label?: string) => (s.consumers === 0
      ? `| ${s.viewers} | — | ${pct(s.quota)} | — | — | — | — | — | — | ${s.testerCpuPercent} | — | ${s.stopReason ?? ''}; no SFU sample |`
      : `| ${s.viewers} | ${s.consumers} | ${label ?? pct(s.quota)} | ${s.workerCpuPercent}${s.cpuOfQuotaPercent != null ? ` (${s.cpuOfQuotaPercent} % of quota)` : ''} | ${s.throttle ? `${s.throttle.throttledPercent} % · ${s.throttle.throttledMsPerSec} ms/s` : '—'} | ${s.packetsOutPerSec} | ${s.workerRssMiB} | ${s.rssKiBPerConsumer} | ${Math.round(s.loss * 10000) / 100} | ${s.testerCpuPercent} | ${s.otherCpuPercent ?? '—'}${s.stealPercent ? ` (steal ${s.stealPercent})` : ''} | ${s.stopReason ?? ''} |`);
    for (const mode of ['video', 'listen'] as const) {
      const m = fd[mode];
      md.push(`**${mode === 'video' ? 'Video (H.264 + Opus)' : 'Listen mode (Opus only)'}**`, '', '| viewers | consumers | worker quota | worker CPU % of a core | throttled periods · time | packets/s out | worker RSS MiB | KiB/consumer | loss % | tester CPU % | other CPU % | stop |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
      // Without a quota the reference step is the ramp's first step already.
      if (m.reference && fd.quota) md.push(stepRow(m.reference, 'none (reference)'));
      for (const s of m.steps) md.push(stepRow(s));
      if (m.ceiling) md.push(stepRow(m.ceiling, "none (tester's ceiling)"));
      const c = m.capacity;
      if (c) {
        const how = c.basis === 'saturated'
          ? `measured: ${c.consumersMeasured} consumers saturated the worker confined to ${pct(c.quota)} of a core (${c.workerCpuPercent} % of a core = ${c.cpuOfQuotaPercent} % of its quota), ÷ the quota`
          : c.basis === 'below saturation'
            ? `a lower bound: the last clean step, ${c.consumersMeasured} consumers at ${c.cpuOfQuotaPercent} % of a ${pct(c.quota)} quota, ÷ the quota (the worker did not reach 90 % of its quota at a clean step)`
            : `extrapolated: ${c.consumersMeasured} consumers at ${c.workerCpuPercent} % of an unconfined core, scaled linearly to 100 %`;
        md.push('', `Per core: **${c.consumersPerCore} consumers**, **${c.packetsOutPerSecPerCore} packets/s out**, **${c.rssKiBPerConsumer} KiB per consumer** (${how}).`);
        if (m.reference && m.linear && c.basis !== 'extrapolated') {
          md.push(`Cross-check: the unconfined reference step (${m.reference.consumers} consumers at ${m.reference.workerCpuPercent} % of a core) scaled linearly gives ${m.linear.consumersPerCore} consumers and ${m.linear.packetsOutPerSecPerCore} packets/s per core; measured ÷ linear = **×${m.ratioToLinear}**.`);
        }
        if (m.ceiling && m.ceilingLinear && c.basis !== 'extrapolated') {
          md.push(`Unconfined at the tester's ceiling (${m.ceiling.consumers} consumers at ${m.ceiling.workerCpuPercent} % of a core, loss ${Math.round(m.ceiling.loss * 10000) / 100} %) scaled linearly: ${m.ceilingLinear.consumersPerCore} consumers and ${m.ceilingLinear.packetsOutPerSecPerCore} packets/s per core; measured ÷ that = **×${m.ratioToCeilingLinear}**.`);
        }
        md.push('');
        const note = c.basis === 'saturated' ? `saturated at a ${pct(c.quota)} quota${m.ratioToLinear != null ? `; linear extrapolations: ${m.linear?.consumersPerCore} from ${m.reference?.consumers} consumers${m.ceiling ? `, ${m.ceilingLinear?.consumersPerCore} from ${m.ceiling.consumers}` : ''}` : ''}` : c.basis === 'below saturation' ? 'lower bound, quota not saturated' : 'extrapolated linearly';
        rows.push(`| Fan-out, ${mode}: consumers per worker core | ${c.consumersPerCore} (${note}) · ${c.packetsOutPerSecPerCore} pkt/s · ${c.rssKiBPerConsumer} KiB/consumer |`);
      }
    }
    for (const c of fd.contention ?? []) md.push(`- **${c}**`);
    if (fd.contention?.length) md.push('');
    md.push('Memory per consumer is the worker RSS growth from before the first viewer (a fresh worker per mode), over the consumers of that step; it includes each viewer\'s WebRtcTransport (in listen mode one consumer per transport, in video mode two).', '');
    if (fd.listenVsVideoConsumersPerCore !== null) {
      md.push(`Listen / video consumers per core: **×${fd.listenVsVideoConsumersPerCore}** (same run).`, '');
      rows.push(`| Fan-out: listen / video consumers per core | ×${fd.listenVsVideoConsumersPerCore} |`);
    }
    const confined = (m: Mode) => fd[m].steps.filter((s) => s.consumers > 0);
    const series = (k: 'workerCpuPercent' | 'packetsOutPerSec') => (['video', 'listen'] as const).map((m) => ({ name: m, points: confined(m).map((s): [number, number] => [s.consumers, s[k]]) }));
    const quota = fd.quota?.share;
    const maxConsumers = Math.max(...(['video', 'listen'] as const).flatMap((m) => confined(m).map((s) => s.consumers)), 1);
    const cpuSeries = quota ? [...series('workerCpuPercent'), { name: `quota (${pct(quota)})`, points: [[0, quota * 100], [maxConsumers, quota * 100]] as [number, number][] }] : series('workerCpuPercent');
    md.push(await plot('fanout-cpu', lineChart(`Worker CPU vs consumers (one worker${quota ? `, confined to ${pct(quota)} of a core` : ''})`, 'consumers', '% of one core', cpuSeries)), '');
    md.push(await plot('fanout-packets', lineChart('Packets/s out vs consumers', 'consumers', 'packets/s', series('packetsOutPerSec'))), '');
  } else rows.push('| Fan-out | not measured (see report) |');

  const g = results.get('glass-to-glass');
  section(g, '2. Glass-to-glass latency (Chromium)');
  const gd = g?.data as G2g | null | undefined;
  if (gd) {
    md.push(`- one node: ${p(gd.oneNode)}, unreadable frames ${gd.oneNode.unreadable}`);
    md.push(`- through a cross-node pipe: ${gd.crossNode ? `${p(gd.crossNode)}, unreadable frames ${gd.crossNode.unreadable}` : 'not measured'}`);
    if (gd.ratioCrossToOne) md.push(`- cross-node / one node: p50 ×${gd.ratioCrossToOne.p50}, p95 ×${gd.ratioCrossToOne.p95}, p99 ×${gd.ratioCrossToOne.p99} (same run)`);
    md.push('');
    const groups = [{ label: 'one node', s: gd.oneNode }, ...(gd.crossNode ? [{ label: 'cross-node pipe', s: gd.crossNode }] : [])];
    md.push(await plot('glass-to-glass', barChart('Glass-to-glass latency (ms)', 'ms', groups.map(({ label, s }) => ({ label, values: [{ name: 'p50', value: s.p50 }, { name: 'p95', value: s.p95 }, { name: 'p99', value: s.p99 }] })))), '');
    rows.push(`| Glass-to-glass, one node | ${p(gd.oneNode)} |`);
    rows.push(`| Glass-to-glass, cross-node pipe | ${gd.crossNode ? `${p(gd.crossNode)}; ×${gd.ratioCrossToOne?.p50} of one node at p50` : 'not measured'} |`);
  } else rows.push('| Glass-to-glass | not measured (see report) |');

  const st = results.get('stage');
  section(st, '3. Stage invite');
  const sd = st?.data as Stage | null | undefined;
  const ring = results.get('stage-ring');
  const rg = ring?.data as { calls: number; medianMs: number; clickToCallMs: Summary; loadAverage1m: number } | null | undefined;
  const accept = results.get('stage-accept');
  const ad = accept?.data as { rounds: number; acceptToGuestAudioMs: Summary } | null | undefined;
  const acceptLine = ad ? `${p(ad.acceptToGuestAudioMs)} (${ad.rounds} rounds; method: ${accept?.method})` : 'not measured (see deploy/bench/stage-accept.ts)';
  if (sd) {
    const cpu = sd.serverCpuMsPerInvite === undefined ? '' : `; the server spent ${sd.serverCpuMsPerInvite} ms of CPU per invite, the machine's load average was ${sd.loadAverage1m}${sd.floorMs ? `; the floor in the same run, ${sd.n} × GET /api/users/me at once: ${p(sd.floorMs)}` : ''}`;
    md.push(`- API call → incoming-call event (${sd.n} invites at once, ${sd.invitesAccepted} answered 201, ${sd.eventsReceived} events): ${p(sd.inviteToEventMs)}${cpu}`, `- the host's Invite click in /studio → the call on the viewer's screen (Chromium): ${rg ? `median ${rg.medianMs} ms; ${p(rg.clickToCallMs)} (load ${rg.loadAverage1m}; method: ${ring?.method})` : 'not measured (see deploy/bench/stage-ring.ts)'}`, `- accept → guest audio first packet at a viewer: ${acceptLine}`, '');
    md.push(await plot('stage', barChart('Stage invite: API call → stage_invite on /ws (ms)', 'ms', [{ label: `${sd.n} invites at once`, values: [{ name: 'p50', value: sd.inviteToEventMs.p50 }, { name: 'p95', value: sd.inviteToEventMs.p95 }, { name: 'p99', value: sd.inviteToEventMs.p99 }] }])), '');
    rows.push(`| Stage invite: API call → stage_invite on /ws (${sd.n} at once; headless) | ${p(sd.inviteToEventMs)} |`, `| Stage: Invite click → call on the viewer's screen (Chromium) | ${rg ? `median ${rg.medianMs} ms (${rg.calls} calls)` : 'not measured'} |`, `| Stage: accept → guest audio at a viewer (Chromium) | ${ad ? `${p(ad.acceptToGuestAudioMs)} (${ad.rounds} rounds)` : 'not measured'} |`);
  } else rows.push('| Stage invite | not measured (see report) |');

  const cp = results.get('control-plane');
  section(cp, '4. Control plane');
  const cd = cp?.data as Cp | null | undefined;
  if (cd) {
    md.push('| endpoint | rate (achieved) | p50 ms | p95 ms | p99 ms | max ms | errors |', '|---|---|---|---|---|---|---|');
    for (const e of cd.endpoints) {
      md.push(`| ${e.endpoint} | ${e.rate}/s for ${e.seconds} s (${e.achievedRate}/s) | ${e.p50} | ${e.p95} | ${e.p99} | ${e.max} | ${e.errors} |`);
      rows.push(`| ${e.endpoint} at ${e.rate} req/s | p50 ${e.p50} · p99 ${e.p99} ms |`);
    }
    md.push('', `/ws: ${cd.ws.held}/${cd.ws.requested} connections held by one server process (${cd.ws.errors} failed); RSS ${cd.ws.serverRssBeforeMiB} → ${cd.ws.serverRssAfterMiB} MiB, **${cd.ws.kiBPerConnection} KiB per connection**.`, '');
    md.push(await plot('control-plane', barChart('Control plane latency at a fixed rate (ms)', 'ms', cd.endpoints.map((e) => ({ label: e.endpoint.replace(/^GET /, '').replace(/ \(.*\)/, ''), values: [{ name: 'p50', value: e.p50 }, { name: 'p99', value: e.p99 }] })))), '');
    rows.push(`| /ws connections held per server process | ${cd.ws.held} held, ${cd.ws.kiBPerConnection} KiB each |`);
  } else rows.push('| Control plane | not measured (see report) |');

  const j = results.get('join-time');
  section(j, '5. Join time (Chromium)');
  const jd = j?.data as Join | null | undefined;
  if (jd) {
    md.push(`- token request → first decoded frame: ${p(jd.tokenToFirstFrameMs)}`, `- navigation → first decoded frame: ${p(jd.navigationToFirstFrameMs)}`);
    if (jd.tokenToFirstFrameMs.n && jd.navigationToFirstFrameMs.n) md.push(`- token→frame is ×${Math.round((jd.tokenToFirstFrameMs.p50 / jd.navigationToFirstFrameMs.p50) * 100) / 100} of navigation→frame at p50 (same run)`);
    const jl = jd.loadAverage ? ` (load average ${jd.loadAverage.chromium.join('→')})` : '';
    if (jd.loadAverage) md.push(`- machine's load average over the Chromium joins: ${jd.loadAverage.chromium.join(' → ')}`);
    if (jd.headless) md.push(`- ${jd.headless.viewers.requested} headless viewers joining at ${jd.headless.rate}/s: ${jd.headless.viewers.joined} joined, ${jd.headless.viewers.receiving} receiving; join p50 ${jd.headless.joinMs.p50} · p95 ${jd.headless.joinMs.p95} · p99 ${jd.headless.joinMs.p99} ms${jd.loadAverage ? ` (load average ${jd.loadAverage.headless.join(' → ')})` : ''}`);
    md.push('', await plot('join-time', barChart('Join time (ms)', 'ms', [{ label: 'token → first frame', s: jd.tokenToFirstFrameMs }, { label: 'navigation → first frame', s: jd.navigationToFirstFrameMs }].map(({ label, s }) => ({ label, values: [{ name: 'p50', value: s.p50 }, { name: 'p95', value: s.p95 }, { name: 'p99', value: s.p99 }] })))), '');
    rows.push(`| Join time: token request → first decoded frame (Chromium) | ${p(jd.tokenToFirstFrameMs)}${jl} |`);
    if (jd.headless) rows.push(`| Join time: ${jd.headless.viewers.requested} headless viewers at ${jd.headless.rate}/s | p50 ${jd.headless.joinMs.p50} · p95 ${jd.headless.joinMs.p95} ms, ${jd.headless.viewers.receiving} receiving |`);
  } else rows.push('| Join time | not measured (see report) |');

  const rec = results.get('recording');
  section(rec, '6. Recording');
  const rd = rec?.data as Rec | null | undefined;
  if (rd) {
    md.push(`- while recording a live with ${rd.live.renditions} renditions: FFmpeg ${rd.live.ffmpegCpuPercentOfCore} % of a core in all (${rd.live.ffmpegProcesses} processes; the recorder's JavaScript shares a process measured at ${rd.live.nodeProcessCpuPercentOfCore} % with the node and the publisher)`);
    md.push(`- End Live → playable (HLS, last chunks uploaded): ${rd.live.stopMs} ms`);
    if (rd.studio) {
      md.push(`- a ${rd.studio.liveSeconds} s live from /studio: the host's first published frame → the recording's first frame ${rd.studio.renditions.map((r) => `${r.name} ${r.firstFrameMs} ms`).join(', ')}; recording length − (End Live − the host's first frame) ${rd.studio.renditions.map((r) => `${r.name} ${r.durationErrorSec} s`).join(', ')} (load average ${rd.studio.loadAverageBefore[0]} before, the machine ${rd.studio.machineCpuBusyPercent} % busy during the live)`);
      rows.push(`| Recording: host's first frame → first recorded frame; length error | ${rd.studio.firstRecordedFrameMs} ms; ${rd.studio.durationErrorSec} s |`);
    }
    if (rd.tenMinutes) md.push(`- 10-minute live: the finishing job took ${rd.tenMinutes.finishMs} ms (${rd.tenMinutes.renditions.join(', ')}; ${Math.round(rd.tenMinutes.sizeBytes / 1e6)} MB of MP4); End Live → all renditions ready ≈ ${rd.tenMinutes.endLiveToAllRenditionsMs} ms`);
    md.push('');
    rows.push(`| Recording: recorder CPU per live (${rd.live.renditions} renditions) | ${rd.live.ffmpegCpuPercentOfCore} % of a core (FFmpeg) |`);
    rows.push(`| Recording, 10-minute live: End Live → playable / all renditions ready | ${rd.live.stopMs} ms / ${rd.tenMinutes ? `${rd.tenMinutes.endLiveToAllRenditionsMs} ms` : 'not measured'} |`);
  } else rows.push('| Recording | not measured (see report) |');

  const lh = results.get('lighthouse');
  section(lh, '7. Lighthouse (Chromium)');
  const ld = lh?.data as Lighthouse | null | undefined;
  if (ld) {
    md.push(`Median of ${ld.runs} runs per page; load average ${ld.loadAverage.start} at the start, ${ld.loadAverage.end} at the end.`, '');
    md.push('| page | performance | accessibility | best practices | SEO | FCP ms | LCP ms | TBT ms | TTI ms |', '|---|---|---|---|---|---|---|---|---|');
    for (const pg of ld.pages) {
      const m = (k: string) => Math.round(pg.metrics[k] ?? NaN);
      md.push(`| ${pg.path} | ${pg.scores.performance} | ${pg.scores.accessibility} | ${pg.scores['best-practices']} | ${pg.scores.seo} | ${m('first-contentful-paint')} | ${m('largest-contentful-paint')} | ${m('total-blocking-time')} | ${m('interactive')} |`);
    }
    md.push('');
    rows.push(`| Lighthouse (mobile, simulated slow 4G), performance · a11y · BP · SEO | ${ld.pages.map((pg) => `${pg.path} ${pg.scores.performance}·${pg.scores.accessibility}·${pg.scores['best-practices']}·${pg.scores.seo}`).join('; ')} |`);
  } else rows.push('| Lighthouse | not measured (see report) |');

  const hk = results.get('viewers-100k');
  section(hk, '8. 100,000 viewers (simulated fleet, real control plane and placement)');
  const hd = hk?.data as Viewers100k | null | undefined;
  if (hd) {
    const f = hd.fleet;
    md.push(
      `- fleet: ${f.nodes} simulated nodes × ${f.workersPerNode} workers × ${f.consumersPerWorker} consumers = ${f.capacityViewersPerNode} viewers per node, ${f.nodes * f.capacityViewersPerNode} in all; relay fan-out ${f.fanout}; ${hd.replicas} control plane replicas`,
      `- ${hd.viewers} token requests offered at ${hd.rate}/s: sent over ${hd.rampSeconds} s (${hd.achievedPerSecond}/s achieved${hd.skippedOverInFlightCap ? `, ${hd.skippedOverInFlightCap} skipped over the in-flight cap` : ''}); machine load ${hd.loadAverage.join(' → ')}`,
      `- token request → answer: all ${p(hd.tokenMs)}; WebRTC answers ${p(hd.tokenWebRtcMs)}; ${hd.serverCpuMsPerToken} ms of server CPU per request`,
      `- **${hd.webrtc} on WebRTC, ${hd.hls} past capacity (→ HLS)**, ${hd.failed} failed${hd.failed ? ` (${hd.failedStatuses.join(', ')})` : ''}; ${hd.nodesUsed} nodes used; fullest node at ${Math.round(hd.maxConsumersOverCapacity * 1000) / 10} % of its capacity${hd.nodesAboveCapacity.length ? `; **above capacity: ${hd.nodesAboveCapacity.join(', ')}**` : ', none above'}`,
      `- origin egress for the live: it feeds ${hd.origin.feeds} nodes in the relay tree → ${hd.origin.egressMbps} Mbit/s (every edge fed by the origin would be ${hd.origin.withoutTreeMbps} Mbit/s)`,
      `- the HLS tier's requests on the origin (computed): ${hd.hlsOrigin.perCacheRequestsPerSecond}/s per cache (${hd.hlsOrigin.caches.map((c) => `${c.caches} caches: ${c.requestsPerSecond}/s`).join(', ')}), against ${hd.hlsOrigin.withoutCacheRequestsPerSecond}/s if the ${hd.hls} HLS viewers reached it directly`,
      '',
    );
    md.push(await plot('viewers-100k', lineChart('100,000 viewer joins: answers per second and token p99', 'seconds', 'per second / ms', [
      { name: 'WebRTC slots /s', points: hd.perSecond.map((s) => [s.second, s.webrtc]) },
      { name: 'past capacity (HLS) /s', points: hd.perSecond.map((s) => [s.second, s.hls]) },
      { name: 'token p99 ms', points: hd.perSecond.map((s) => [s.second, s.p99Ms]) },
    ])), '');
    rows.push(`| ${hd.viewers} viewer joins offered at ${hd.rate}/s (simulated ${f.nodes}-node fleet, ${hd.replicas} replicas on this machine): achieved rate; token p50 · p99; WebRTC / past capacity (HLS) | ${hd.achievedPerSecond}/s${hd.skippedOverInFlightCap ? ` (${hd.skippedOverInFlightCap} not sent: ${hd.viewers - hd.skippedOverInFlightCap} requests)` : ''}; ${hd.tokenMs.p50} · ${hd.tokenMs.p99} ms${hd.tokenMs.p99 > 1000 ? ' (the tail: queueing on this saturated 2-core machine)' : ''}; ${hd.webrtc} / ${hd.hls}, ${hd.nodesUsed} nodes, none above capacity: ${hd.nodesAboveCapacity.length === 0 ? 'yes' : 'no'}; origin feeds ${hd.origin.feeds} nodes |`);
  } else rows.push('| 100,000 viewers | not measured (see report) |');

  await writeFile(`${HERE}REPORT.md`, `${md.join('\n')}\n`);
  // One `npm run bench` writes every result within its run; results from separate runs say so.
  const dates = [...results.values()].map((r) => r.machine.date.slice(0, 16).replace('T', ' ')).sort();
  const runStart = run.machine ? Date.parse(run.machine.date) - (run.totalSeconds ?? 0) * 1000 - 60_000 : Infinity;
  const oneRun = [...results.values()].every((r) => Date.parse(r.machine.date) >= runStart);
  const table = [
    START,
    `Latest: [deploy/bench/REPORT.md](deploy/bench/REPORT.md) (raw results in \`deploy/bench/results/\`)${oneRun ? `${run.machine ? `, measured on ${machineLine(run.machine)}` : ''}${run.totalSeconds ? `; the run took ${Math.round(run.totalSeconds / 6) / 10} min` : ''}` : `, from benchmarks run separately between ${dates[0]} and ${dates.at(-1)} UTC (each one's machine, commit and load are in the report)`}.`,
    '',
    '| benchmark | result |',
    '| --- | --- |',
    ...rows,
    END,
  ].join('\n');
  const readme = await readFile(README, 'utf8');
  const next = readme.includes(START)
    ? readme.replace(new RegExp(`${START}[\\s\\S]*?${END}`), table)
    : readme.replace('\n## Tests\n', `\n## Benchmarks\n\n\`npm run bench\` (not part of \`npm test\`; about 25 minutes) runs \`deploy/bench/run.ts\`: fan-out per worker core, glass-to-glass latency, stage invite, control plane, join time, recording, Lighthouse. Every figure is from one run on the machine named below.\n\n${table}\n\n## Tests\n`);
  await writeFile(README, next);
  process.stderr.write(`[bench] wrote ${HERE}REPORT.md and the README table\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await writeReport();
