/** The `blackhole` connector (Flink's `BlackHoleTableSinkFactory`): swallows every change. */
import type { Sink } from '@nimble/api';
import { DiscardingSink } from '@nimble/api';
import { validateOptions, withTableContext } from './options.js';
import type { TableSinkFactory } from './table-factory.js';

export const blackholeFactory: TableSinkFactory = {
  identifier: 'blackhole',
  validateSink(table) {
    withTableContext('sink', table, () => validateOptions('blackhole', table.options, []));
  },
  changelogMode: () => 'all',
  createSink(ctx) {
    this.validateSink(ctx.table);
    (ctx.input as { sinkTo(s: Sink<unknown>, name?: string): { uid(u: string): unknown } })
      .sinkTo(new DiscardingSink(), ctx.name)
      .uid(ctx.uid);
  },
};
