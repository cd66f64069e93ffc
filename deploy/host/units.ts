/**
 * The systemd units of one PodLive host: the control plane, the web app, the recorder, one unit
 * per media node (a template, `podlive-sfu@<node>`), all grouped by `podlive.target`; and a
 * daily job that hands coturn a copy of the TURN name's certificate Caddy keeps renewed.
 *
 * Every process runs as the service user, reads the shared env file (secrets: root-owned, group
 * readable by the service user only) and writes only to the data directory. A process that dies is
 * started again after 2 s; one that keeps dying stops after 10 tries in 5 minutes (then
 * `systemctl status` shows why) instead of spinning.
 */
export interface HostLayout {
  /** The checkout the processes run from (node_modules installed, web/build built). */
  repo: string;
  /** The node binary. */
  node: string;
  /** The service user (and its group). */
  user: string;
  /** Shared env file (secrets and addresses). */
  envFile: string;
  /** Where one media node's own env file is: `%i` is the node id. */
  nodeEnvFile: string;
  /** DATA_DIR: the only place the processes write. */
  dataDir: string;
  /** The script that copies the TURN certificate for coturn (see turn-cert.ts). */
  turnCertScript: string;
}

const HARDENING = [
  'NoNewPrivileges=yes',
  'ProtectSystem=strict',
  'ProtectHome=yes',
  'PrivateTmp=yes',
  'PrivateDevices=yes',
  'ProtectKernelTunables=yes',
  'ProtectKernelModules=yes',
  'ProtectControlGroups=yes',
  'RestrictSUIDSGID=yes',
  'LockPersonality=yes',
];

interface ServiceSpec {
  description: string;
  /** Directory under the checkout the process starts in. */
  dir: string;
  args: string[];
  env?: string[];
  /** Reads the shared env file (the secrets); the web app does not need it. */
  secrets?: boolean;
  after?: string[];
  /** Resource limits: memory ceiling, and open files (sockets: one per viewer and more). */
  memoryMax: string;
  tasksMax?: number;
}

function service(layout: HostLayout, spec: ServiceSpec, extraEnvFile?: string): string {
  return [
    '# Written by deploy/host (npm run deploy -- install): make changes there, not here.',
    '[Unit]',
    `Description=${spec.description}`,
    `After=network-online.target ${(spec.after ?? []).join(' ')}`.trimEnd(),
    'Wants=network-online.target',
    'PartOf=podlive.target',
    'StartLimitIntervalSec=300',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=simple',
    `User=${layout.user}`,
    `Group=${layout.user}`,
    `WorkingDirectory=${layout.repo}/${spec.dir}`,
    ...(spec.secrets === false ? [] : [`EnvironmentFile=${layout.envFile}`]),
    ...(extraEnvFile === undefined ? [] : [`EnvironmentFile=${extraEnvFile}`]),
    ...(spec.env ?? []).map((e) => `Environment=${e}`),
    `ExecStart=${[layout.node, ...spec.args].join(' ')}`,
    'Restart=always',
    'RestartSec=2',
    // SIGTERM first: each process closes its lives, sockets and files; killed after 20 s.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=20',
    'LimitNOFILE=65536',
    `MemoryMax=${spec.memoryMax}`,
    ...(spec.tasksMax === undefined ? [] : [`TasksMax=${spec.tasksMax}`]),
    `ReadWritePaths=${layout.dataDir}`,
    ...HARDENING,
    '',
    '[Install]',
    'WantedBy=podlive.target',
    '',
  ].join('\n');
}

export interface HostPorts {
  server: number;
  web: number;
  recorder: number;
  /** The /metrics listeners (on 127.0.0.1, the default METRICS_HOST). */
  serverMetrics: number;
  recorderMetrics: number;
}

/** File name → unit text, for /etc/systemd/system; `webEnv`: the web app's behind-the-proxy settings. */
export function systemdUnits(layout: HostLayout, nodeIds: readonly string[], ports: HostPorts, webEnv: Record<string, string>): Record<string, string> {
  const tsx = ['--import', 'tsx', 'src/main.ts'];
  const sfuUnits = nodeIds.map((id) => `podlive-sfu@${id}.service`);
  return {
    'podlive.target': [
      '# Written by deploy/host (npm run deploy -- install): make changes there, not here.',
      '[Unit]',
      'Description=PodLive: every process of this host',
      `Wants=podlive-server.service podlive-web.service podlive-recorder.service ${sfuUnits.join(' ')}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
    'podlive-server.service': service(layout, {
      description: 'PodLive control plane (pages, /api, /ws)',
      dir: 'server',
      args: tsx,
      env: [`PORT=${ports.server}`, `METRICS_PORT=${ports.serverMetrics}`],
      after: ['postgresql.service', 'redis-server.service'],
      memoryMax: '2G',
    }),
    'podlive-web.service': service(layout, { description: 'PodLive web app (SvelteKit, behind the control plane)', dir: 'web', args: ['build/index.js'], secrets: false, env: [`PORT=${ports.web}`, 'HOST=127.0.0.1', ...Object.entries(webEnv).map(([k, v]) => `${k}=${v}`)], memoryMax: '1G' }),
    'podlive-recorder.service': service(layout, {
      description: 'PodLive recorder (FFmpeg per live, finished recordings to storage)',
      dir: 'recorder',
      args: tsx,
      env: [`RECORDER_PORT=${ports.recorder}`, `METRICS_PORT=${ports.recorderMetrics}`],
      after: ['podlive-server.service'],
      memoryMax: '4G',
    }),
    'podlive-sfu@.service': service(
      layout,
      { description: 'PodLive media node %i (mediasoup)', dir: 'sfu', args: tsx, after: ['redis-server.service'], memoryMax: '4G', tasksMax: 512 },
      layout.nodeEnvFile,
    ),
    'podlive-turn-cert.service': [
      '# Written by deploy/host (npm run deploy -- install): make changes there, not here.',
      '[Unit]',
      "Description=PodLive: give coturn the TURN name's certificate Caddy renews",
      'After=caddy.service',
      '',
      '[Service]',
      'Type=oneshot',
      `ExecStart=/bin/bash ${layout.turnCertScript}`,
      '',
    ].join('\n'),
    'podlive-turn-cert.timer': [
      '# Written by deploy/host (npm run deploy -- install): make changes there, not here.',
      '[Unit]',
      "Description=PodLive: refresh coturn's copy of the TURN certificate daily",
      '',
      '[Timer]',
      'OnBootSec=2min',
      'OnUnitActiveSec=1d',
      'RandomizedDelaySec=1h',
      '',
      '[Install]',
      'WantedBy=timers.target',
      '',
    ].join('\n'),
  };
}
