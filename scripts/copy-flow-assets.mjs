// A flow package finds its caller scripts and migrations next to its code
// (new URL('./calls/', import.meta.url)); tsc emits only the code, so the compiled
// packages under dist/agents need the same files beside them.
import { cpSync } from 'node:fs';

cpSync('agents', 'dist/agents', {
  recursive: true,
  filter: (path) => !path.endsWith('.ts') && !path.endsWith('.md'),
});
