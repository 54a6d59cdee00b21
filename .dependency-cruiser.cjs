/**
 * The import graph's rules (issue 10): the hub and the kiosk are two programs that share code only
 * through shared packages. Checked by test/architecture/imports.test.ts (and `npm run lint:deps`).
 *
 *   protocol/  the kiosk↔hub contract (MQTT topics and payloads, HTTP API, signing)
 *   face/      the face pipeline (engines, alignment, quality, matching, evaluation)
 *   clock/     trusted-time reconstruction
 *   finger/    synthetic fingerprint templates (simulator and demo seeding)
 *   lib/       small utilities (config files, errors, logging, atomic writes, releases)
 *   models/    the model weights store
 *
 * cli/ and bench/ may use both sides: they are tools that start a hub, a kiosk or both.
 */
const SHARED = '^(protocol|face|clock|finger|lib|models)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'hub-imports-kiosk',
      comment: 'The hub must not import kiosk code: move what both use into a shared package (protocol/, face/, clock/, finger/, lib/).',
      severity: 'error',
      from: { path: '^hub/' },
      to: { path: '^kiosk/' },
    },
    {
      name: 'kiosk-imports-hub',
      comment: 'The kiosk must not import hub code: it talks to the hub over MQTT and HTTP (protocol/).',
      severity: 'error',
      from: { path: '^kiosk/' },
      to: { path: '^hub/' },
    },
    {
      name: 'hub-imports-outside-shared',
      comment: 'The hub imports only itself, the shared packages and node_modules.',
      severity: 'error',
      from: { path: '^hub/' },
      to: { path: '^', pathNot: ['^hub/', SHARED, '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'kiosk-imports-outside-shared',
      comment: 'The kiosk imports only itself, the shared packages and node_modules.',
      severity: 'error',
      from: { path: '^kiosk/' },
      to: { path: '^', pathNot: ['^kiosk/', SHARED, '(^|/)node_modules/', '^package\\.json$'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'shared-imports-a-side',
      comment: 'Shared packages stand on their own: they never import the hub, the kiosk or the tools.',
      severity: 'error',
      from: { path: SHARED },
      to: { path: '^(hub|kiosk|cli|bench|bin|test)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import must resolve, or the rules above could not see where it goes.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
