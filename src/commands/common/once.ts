// A lazily imported module, imported once. Node caches a required module,
// but from a directory other than the one whose module loaded it first, each
// require resolves the path again (package.json lookups and all, ~15 us):
// a batch that runs a command thousands of times pays that every time.
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
