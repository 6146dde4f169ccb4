// chalk and ora are ES modules only, and the compiled CLI is CommonJS (Node's
// CommonJS loader starts a module several times faster than its ES module
// loader, which was most of our start-up). TypeScript would turn a plain
// `import()` into `require()`, which cannot load an ES module on Node 20;
// a Function keeps a real dynamic import.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- on purpose, see above: a constant body, no user input
export const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;
