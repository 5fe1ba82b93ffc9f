/**
 * The floors of src/ (docs/ARCHITECTURE.md): a folder imports only folders on its own floor or
 * below, never one above, and there are no cycles. `npm test` runs this first; `npm run
 * architecture` draws the floors into docs/ARCHITECTURE.md.
 */
const FLOORS = [
  ['config', 'common', 'logging'], // ground: the environment, helpers, the root logger
  ['database'], // data source options, embedded PostgreSQL, migrations, SQL helpers: no domain
  ['auth', 'metrics'], // bearer tokens; the Prometheus registry
  ['events', 'mail-log'], // the two logs
  ['relays'], // the relay table (the primary is priority 0), sealed secrets, relay health
  ['settings'], // the settings row, and the settings API over it and the primary relay
  ['queue', 'channels'], // the queue; notification channels and the routing rules
  ['storm'],
  ['intake'],
  ['delivery', 'reports'],
  ['retention', 'health', 'openapi'],
  ['web'], // htmx helpers, sessions, CSRF, view helpers
  ['dashboard'], // every page controller
  ['cli'], // the command line: talks to the API, shares only config and pure helpers
];

const folder = (name) => `^src/${name}/`;
const floorOf = new Map(FLOORS.flatMap((names, i) => names.map((n) => [n, i])));
const above = (i) => FLOORS.slice(i + 1).flat();
const sameFloorOthers = (name) => FLOORS[floorOf.get(name)].filter((n) => n !== name);

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle between modules: break it (a lower shared module, an event), never forwardRef.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...FLOORS.flatMap((names, i) =>
      names.map((name) => ({
        name: `floor-${name}`,
        comment: `src/${name}/ is on floor ${i}: it imports only from its own floor or below.`,
        severity: 'error',
        from: { path: folder(name) },
        to: { path: `^src/(${[...above(i), ...sameFloorOthers(name)].join('|')})/` },
      })),
    ).filter((rule) => !rule.to.path.endsWith('()/')),
    {
      name: 'domain-not-web',
      comment: 'A domain folder never imports web code: pages belong to the web layer (dashboard/, web/).',
      severity: 'error',
      from: { path: '^src/(?!web/|dashboard/|main\\.ts$|app\\.module\\.ts$)' },
      to: { path: '^src/(web|dashboard)/' },
    },
    {
      name: 'queue-not-delivery-or-intake',
      comment: 'The queue owns the dispatcher port; delivery implements it. Dependencies point down.',
      severity: 'error',
      from: { path: folder('queue') },
      to: { path: '^src/(delivery|intake)/' },
    },
    {
      name: 'intake-not-delivery',
      severity: 'error',
      from: { path: folder('intake') },
      to: { path: folder('delivery') },
    },
    {
      name: 'database-no-domain',
      comment: 'database/ knows no domain: each module registers its own entities.',
      severity: 'error',
      from: { path: folder('database') },
      to: { path: `^src/(?!database/|config/|common/|logging/)` },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
  },
};
// For scripts/architecture.mjs (not part of dependency-cruiser's configuration).
Object.defineProperty(module.exports, 'FLOORS', { value: FLOORS, enumerable: false });
