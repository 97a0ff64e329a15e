// Each copy of the fixture keeps its own Vite cache: node_modules is shared (linked
// from tests/node), and two Vite processes must not write one cache at once.
export default {
  cacheDir: ".vite",
};
