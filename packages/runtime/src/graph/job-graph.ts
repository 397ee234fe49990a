import type {
  KeySelector,
  Key,
  Partitioner,
  PartitionerKind,
  Pipeline,
  Transformation,
} from '@nimble/api';
import {
  OneInputTransformation,
  PartitionTransformation,
  SideOutputTransformation,
  SinkTransformation,
  SourceTransformation,
  TwoInputTransformation,
  UnionTransformation,
} from '@nimble/api';
import { JobDefinitionError } from '../errors.js';
import type { JobPlan } from './job-plan.js';
import { customPartitionerChannel } from '../exchange/custom-partitioner.js';
import { checkParallelism, DEFAULT_MAX_PARALLELISM } from '../keys/index.js';
import {
  applyParallelismOverrides,
  PARALLELISM_OVERRIDES_KEY,
  parseParallelismOverrides,
} from './parallelism-overrides.js';

/** A physical operator of the job: a source, an operator or a sink. */
export interface StreamNode {
  readonly id: number;
  readonly name: string;
  /** The user's uid or a generated one that is stable for the same job code. */
  readonly uid: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly transformation:
    | SourceTransformation<unknown>
    | OneInputTransformation<unknown, unknown>
    | TwoInputTransformation<unknown, unknown, unknown>
    | SinkTransformation<unknown>;
  /** Whether the operator has keyed state and timers (a keyed state backend). */
  readonly keyed: boolean;
  /** For keyed operators: the key of state and timers of the (first) input's records. */
  readonly stateKeySelector: KeySelector<unknown, Key> | undefined;
  /** For keyed two-input operators: the key of the second input's records, if it is keyed. */
  readonly stateKeySelector2: KeySelector<unknown, Key> | undefined;
  readonly chainingAllowed: boolean;
  readonly inEdges: StreamEdge[];
  readonly outEdges: StreamEdge[];
}

/** A connection between two stream nodes. */
export interface StreamEdge {
  /** `<source>-><target>` plus the side output, unique in the job. */
  readonly id: string;
  readonly source: StreamNode;
  readonly target: StreamNode;
  readonly partitioner: PartitionerKind;
  /**
   * `hash`: the key of a record. `custom`: the index of the channel a record goes to, which the
   * user's partitioner chose for the record's key (see customPartitionerChannel).
   */
  readonly keySelector: KeySelector<unknown, Key> | undefined;
  /** Set when the edge carries a side output of the source. */
  readonly sideOutputTag: string | undefined;
  /** Which input of the target the edge feeds: 0, or 1 for the second input of a two-input operator. */
  readonly inputIndex: number;
}

/** Operators chained into one task: a head and the nodes that follow it by forward edges. */
export interface JobVertex {
  readonly id: number;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Nodes of the chain in topological order; the first is the head. */
  readonly nodes: StreamNode[];
  /** Edges that enter the head from other vertices. */
  readonly inputs: StreamEdge[];
  /** Edges that leave the chain to other vertices. */
  readonly outputs: StreamEdge[];
}

/** The job as tasks: vertices in topological order. */
export interface JobGraph {
  readonly jobName: string;
  readonly vertices: JobVertex[];
  readonly nodes: Map<number, StreamNode>;
  /** The vertex that contains each node. */
  readonly vertexOfNode: Map<number, JobVertex>;
  /** The highest parallelism: the number of slots the job needs (slot sharing). */
  readonly slotsRequired: number;
}

type PhysicalNode = StreamNode & { inEdges: StreamEdge[]; outEdges: StreamEdge[] };
interface Upstream {
  node: PhysicalNode;
  partitioner: PartitionerKind | undefined;
  keySelector: KeySelector<unknown, Key> | undefined;
  sideOutputTag: string | undefined;
  customPartitioner?: Partitioner<unknown> | undefined;
}

/**
 * Builds the job graph of a pipeline (Flink's StreamGraphGenerator + StreamingJobGraphGenerator):
 * virtual transformations (partitioning, union, side outputs) become edge properties, parallelism
 * defaults are applied, and forward edges between equal parallelism are chained.
 */
export function buildJobGraph(pipeline: Pipeline): JobGraph {
  const conf = pipeline.configuration;
  const defaultParallelism = Number(conf['parallelism.default'] ?? 1);
  const defaultMaxParallelism = Number(conf['pipeline.max-parallelism'] ?? DEFAULT_MAX_PARALLELISM);
  const chainingEnabled =
    conf['pipeline.operator-chaining'] !== false && conf['pipeline.operator-chaining'] !== 'false';

  // Collect every transformation reachable from the sinks, in id (= building) order.
  const all = new Map<number, Transformation<unknown>>();
  const visit = (t: Transformation<unknown>): void => {
    if (all.has(t.id)) return;
    all.set(t.id, t);
    for (const i of t.getInputs()) visit(i);
  };
  for (const s of pipeline.sinks) visit(s);
  const ordered = [...all.values()].sort((a, b) => a.id - b.id);

  const nodes = new Map<number, PhysicalNode>();
  const uids = new Set<string>();
  const upstreamCache = new Map<number, Upstream[]>();
  /** Custom-partitioned edges: their channel function depends on the target's parallelism. */
  const customEdges: { edge: StreamEdge; up: Upstream }[] = [];

  const upstreamOf = (t: Transformation<unknown>): Upstream[] => {
    const cached = upstreamCache.get(t.id);
    if (cached) return cached;
    let result: Upstream[];
    if (t instanceof PartitionTransformation) {
      result = upstreamOf(t.input).map((u) => ({
        ...u,
        partitioner: t.partitioner,
        keySelector: t.keySelector,
        customPartitioner: t.customPartitioner,
      }));
    } else if (t instanceof UnionTransformation) {
      result = t.inputs.flatMap((i) => upstreamOf(i));
    } else if (t instanceof SideOutputTransformation) {
      result = upstreamOf(t.input).map((u) => ({ ...u, sideOutputTag: t.tag.id }));
    } else {
      const node = nodes.get(t.id);
      if (!node) throw new Error(`internal: transformation ${t.id} (${t.name}) has no node yet`);
      result = [{ node, partitioner: undefined, keySelector: undefined, sideOutputTag: undefined }];
    }
    upstreamCache.set(t.id, result);
    return result;
  };

  for (const t of ordered) {
    if (!(
      t instanceof SourceTransformation ||
      t instanceof OneInputTransformation ||
      t instanceof TwoInputTransformation ||
      t instanceof SinkTransformation
    )) {
      continue;
    }
    const parallelism = t.parallelism ?? defaultParallelism;
    const maxParallelism = t.maxParallelism ?? defaultMaxParallelism;
    const inputKeySelectors: (KeySelector<unknown, Key> | undefined)[] =
      t instanceof OneInputTransformation
        ? [t.keySelector]
        : t instanceof TwoInputTransformation
          ? [t.keySelector1, t.keySelector2]
          : [];
    const stateKeySelector = inputKeySelectors[0];
    const stateKeySelector2 = inputKeySelectors[1];
    const keyed = stateKeySelector !== undefined || stateKeySelector2 !== undefined;
    if (keyed) {
      try {
        checkParallelism(maxParallelism, parallelism);
      } catch (e) {
        throw new JobDefinitionError(`${t.name}: ${(e as Error).message}`);
      }
    } else if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new JobDefinitionError(
        `${t.name}: parallelism must be a positive integer; got ${parallelism}`,
      );
    }
    const uid = t.uid ?? `auto-${t.id}-${t.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}`;
    if (uids.has(uid)) {
      throw new JobDefinitionError(
        `Two operators have the uid ${JSON.stringify(uid)}; uids must be unique within a job`,
      );
    }
    uids.add(uid);
    const node: PhysicalNode = {
      id: t.id,
      name: t.name,
      uid,
      parallelism,
      maxParallelism,
      transformation: t,
      keyed,
      stateKeySelector,
      stateKeySelector2,
      // A two-input operator heads its chain (as in Flink): its inputs come over the network.
      chainingAllowed: t.chainingAllowed && chainingEnabled,
      inEdges: [],
      outEdges: [],
    };
    nodes.set(t.id, node);
    const inputs = t.getInputs();
    for (let inputIndex = 0; inputIndex < inputs.length; inputIndex++) {
      for (const up of upstreamOf(inputs[inputIndex]!)) {
        const partitioner =
          up.partitioner ?? (up.node.parallelism === parallelism ? 'forward' : 'rebalance');
        if (partitioner === 'forward' && up.node.parallelism !== parallelism) {
          throw new JobDefinitionError(
            `Forward partitioning does not allow a change of parallelism: upstream ${up.node.name} has ` +
              `parallelism ${up.node.parallelism}, downstream ${t.name} has ${parallelism}. ` +
              'Use another partitioning, such as rebalance(), broadcast() or keyBy().',
          );
        }
        if (inputKeySelectors[inputIndex] !== undefined && partitioner !== 'hash') {
          throw new JobDefinitionError(`${t.name}: a keyed operator needs a keyBy() input`);
        }
        const edge: StreamEdge = {
          id: `${up.node.id}->${node.id}${up.sideOutputTag ? `[${up.sideOutputTag}]` : ''}#${node.inEdges.length}`,
          source: up.node,
          target: node,
          partitioner,
          keySelector:
            partitioner === 'custom'
              ? customPartitionerChannel(up.customPartitioner!, up.keySelector!, parallelism)
              : up.keySelector,
          sideOutputTag: up.sideOutputTag,
          inputIndex,
        };
        if (partitioner === 'custom') customEdges.push({ edge, up });
        up.node.outEdges.push(edge);
        node.inEdges.push(edge);
      }
    }
  }

  // Chain: a node joins its input's vertex when the only edge into it is a chainable forward edge.
  const vertexOfNode = new Map<number, JobVertex>();
  const vertices: JobVertex[] = [];
  for (const node of nodes.values()) {
    const only = node.inEdges.length === 1 ? node.inEdges[0] : undefined;
    const chainable =
      only !== undefined &&
      !(node.transformation instanceof TwoInputTransformation) &&
      only.partitioner === 'forward' &&
      only.source.parallelism === node.parallelism &&
      only.source.chainingAllowed &&
      node.chainingAllowed;
    if (chainable) {
      const vertex = vertexOfNode.get(only.source.id)!;
      vertex.nodes.push(node);
      vertexOfNode.set(node.id, vertex);
    } else {
      const vertex: JobVertex = {
        id: node.id,
        name: node.name,
        parallelism: node.parallelism,
        maxParallelism: node.maxParallelism,
        nodes: [node],
        inputs: [...node.inEdges],
        outputs: [],
      };
      vertices.push(vertex);
      vertexOfNode.set(node.id, vertex);
    }
  }
  for (const vertex of vertices) {
    (vertex as { name: string }).name = vertex.nodes.map((n) => n.name).join(' -> ');
    for (const n of vertex.nodes) {
      for (const e of n.outEdges) {
        if (vertexOfNode.get(e.target.id) !== vertex) vertex.outputs.push(e);
      }
    }
  }
  const overrides = parseParallelismOverrides(conf[PARALLELISM_OVERRIDES_KEY]);
  if (overrides.size > 0) overrideParallelism(pipeline.jobName, vertices, overrides, customEdges);
  const slotsRequired = Math.max(1, ...vertices.map((v) => v.parallelism));
  return { jobName: pipeline.jobName, vertices, nodes, vertexOfNode, slotsRequired };
}

/**
 * Runs the vertices at the parallelism of `overrides` (see parallelism-overrides.ts): every
 * operator of a vertex takes it, keyed ones within their key groups, and custom partitioners
 * pick among the new number of channels. Chains and partitioners stay as built.
 */
function overrideParallelism(
  jobName: string,
  vertices: JobVertex[],
  overrides: ReadonlyMap<number, number>,
  customEdges: readonly { edge: StreamEdge; up: Upstream }[],
): void {
  try {
    // The same checks the JobManager made on its plan: unknown vertices, bounds, forward edges.
    applyParallelismOverrides(describeJobGraph({ jobName, vertices } as JobGraph), overrides);
  } catch (e) {
    throw new JobDefinitionError((e as Error).message, { cause: e });
  }
  for (const vertex of vertices) {
    const p = overrides.get(vertex.id);
    if (p === undefined) continue;
    (vertex as { parallelism: number }).parallelism = p;
    for (const node of vertex.nodes) {
      if (node.keyed) {
        try {
          checkParallelism(node.maxParallelism, p);
        } catch (e) {
          throw new JobDefinitionError(`${node.name}: ${(e as Error).message}`);
        }
      }
      (node as { parallelism: number }).parallelism = p;
    }
  }
  for (const { edge, up } of customEdges) {
    (edge as { keySelector: StreamEdge['keySelector'] }).keySelector = customPartitionerChannel(
      up.customPartitioner!,
      up.keySelector!,
      edge.target.parallelism,
    );
  }
}

/** Whether an edge stays inside a chain. */
export function isChained(graph: JobGraph, edge: StreamEdge): boolean {
  return graph.vertexOfNode.get(edge.source.id) === graph.vertexOfNode.get(edge.target.id);
}

/**
 * A JSON description of the graph (what `nimble run` uploads and what TaskManagers check against
 * the graph they rebuild from the job module): no closures.
 */
export function describeJobGraph(graph: JobGraph): JobPlan {
  return {
    jobName: graph.jobName,
    vertices: graph.vertices.map((v) => ({
      id: v.id,
      name: v.name,
      parallelism: v.parallelism,
      maxParallelism: v.maxParallelism,
      operators: v.nodes.map((n) => ({
        id: n.id,
        name: n.name,
        uid: n.uid,
        keyed: n.keyed,
      })),
      inputs: v.inputs.map((e) => ({
        id: e.id,
        from: e.source.id,
        partitioner: e.partitioner,
        sideOutput: e.sideOutputTag ?? null,
        input: e.inputIndex,
      })),
    })),
  };
}
