import type { AnyFlowPackage, FlowResourceContext } from '../conversation/flow-package.js';

/**
 * The resources of each flow package a worker process has run, opened on its first call and
 * closed when the process shuts down (in the process executor, a process is one call). A
 * flow's stores and pools are thus shared by every call of that flow in the process.
 */
export class FlowResourcePool {
  readonly #open = new Map<AnyFlowPackage, unknown>();

  constructor(private readonly context: FlowResourceContext) {}

  get(pkg: AnyFlowPackage): unknown {
    if (!this.#open.has(pkg)) this.#open.set(pkg, pkg.resources.open(this.context));
    return this.#open.get(pkg);
  }

  async close(): Promise<void> {
    const open = [...this.#open];
    this.#open.clear();
    await Promise.all(open.map(async ([pkg, r]) => pkg.resources.close(r)));
  }
}
