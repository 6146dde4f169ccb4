// The layer contract of DESIGN.md "Layout", checked on every `npm run check`:
// dependencies point downward only (commands -> ipc -> native; commands ->
// output), ffi-rs is reached through src/native alone, commands never import
// each other, and nothing goes round in a circle.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'ffi-rs-only-in-native',
      comment: 'src/native is the only layer that sees ffi-rs, pointers and raw errno numbers.',
      severity: 'error',
      from: { pathNot: '^src/native/' },
      // ffi-rs itself, and its prebuilt binaries that native/binding.ts loads directly.
      to: { path: '(^|/)node_modules/(ffi-rs|@yuuang/ffi-rs-[^/]+)/' },
    },
    {
      name: 'domain-and-native-stay-below-commands',
      comment: 'src/ipc and src/native are below the commands, the output and the CLI: they return values or throw, never print or parse.',
      severity: 'error',
      from: { path: '^src/(ipc|native)/' },
      to: { path: '^src/(commands|output)/|^src/cli\\.ts$' },
    },
    {
      name: 'no-command-imports-another',
      comment: 'A command file imports no other command file; what two commands share lives in src/commands/common/.',
      severity: 'error',
      from: { path: '^src/commands/[^/]+\\.ts$' },
      to: { path: '^src/commands/[^/]+\\.ts$' },
    },
    {
      name: 'common-does-not-import-commands',
      comment: 'src/commands/common/ serves the commands; importing one of them back would be a sideways edge in disguise.',
      severity: 'error',
      from: { path: '^src/commands/common/' },
      to: { path: '^src/commands/[^/]+\\.ts$' },
    },
    {
      name: 'nothing-imports-cli',
      comment:
        'cli.ts is the top: it loads the commands, nothing under src/ loads it (tests may), except the start-up snapshot builder above it (src/snapshot, which reads its registry).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli\\.ts|snapshot/)' },
      to: { path: '^src/cli\\.ts$' },
    },
    {
      name: 'lab-never-native',
      comment: 'The exercises use the domain layer (src/ipc), never the native one.',
      severity: 'error',
      from: { path: '^src/lab/' },
      to: { path: '^src/native/' },
    },
    {
      name: 'no-circular',
      comment: 'A circle makes load order matter and layers meaningless.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count too: a type from a higher layer is still a
    // dependency on it, and `import type` would otherwise hide a leak.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
