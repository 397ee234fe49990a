import type { Expr, IntervalExpr } from '../parser/ast.js';
import { parseExpression } from '../parser/parser.js';
import { ValidationError } from '../errors.js';

/**
 * A group window of the Table API (Flink's `GroupWindow`): `Tumble`, `Slide` or `Session` over a
 * time attribute, with an alias the grouping and the select list use (`w.start`, `w.end`,
 * `w.rowtime`). It plans to the same window TVF aggregation as SQL.
 */
export interface GroupWindow {
  /** @internal TUMBLE / HOP / SESSION and its interval arguments, in TVF order. */
  readonly kind: 'TUMBLE' | 'HOP' | 'SESSION';
  readonly intervals: readonly IntervalExpr[];
  readonly timeField: string;
  readonly alias: string;
}

function interval(text: string): IntervalExpr {
  const e: Expr = parseExpression(text);
  if (e.kind !== 'interval') {
    throw new ValidationError(
      `Expected an INTERVAL literal such as "INTERVAL '5' MINUTE"; got ${text}`,
    );
  }
  return e;
}

/** A group window of a given size, to be placed on a time attribute with `on(...)`. */
export class WindowOn {
  /** @internal use `Tumble.over`, `Slide.over(...).every` or `Session.withGap`. */
  constructor(
    private readonly kind: GroupWindow['kind'],
    private readonly intervals: readonly IntervalExpr[],
  ) {}
  /** The time attribute the window is over. */
  on(timeField: string): { as(alias: string): GroupWindow } {
    return {
      as: (alias: string): GroupWindow => ({
        kind: this.kind,
        intervals: this.intervals,
        timeField,
        alias,
      }),
    };
  }
}

/** Tumbling windows: `Tumble.over("INTERVAL '5' MINUTE").on('ts').as('w')`. */
export const Tumble = {
  over: (size: string): WindowOn => new WindowOn('TUMBLE', [interval(size)]),
};

/** Sliding windows: `Slide.over("INTERVAL '10' MINUTE").every("INTERVAL '5' MINUTE").on('ts').as('w')`. */
export const Slide = {
  over: (size: string) => ({
    every: (slide: string): WindowOn => new WindowOn('HOP', [interval(slide), interval(size)]),
  }),
};

/** Session windows: `Session.withGap("INTERVAL '30' MINUTE").on('ts').as('w')`. */
export const Session = {
  withGap: (gap: string): WindowOn => new WindowOn('SESSION', [interval(gap)]),
};
