// The kafkajs 2.2.4 internal modules kafka-internals.ts reaches into (CommonJS, untyped): only
// what it uses. Their default export is the module's `module.exports`.

declare module 'kafkajs/src/broker/index.js' {
  /** kafkajs' Broker class: its prototype is wrapped, its methods called with `this` bound. */
  const Broker: { readonly prototype: object };
  export default Broker;
}

declare module 'kafkajs/src/protocol/coordinatorTypes.js' {
  const coordinatorTypes: { readonly GROUP: number; readonly TRANSACTION: number };
  export default coordinatorTypes;
}

declare module 'kafkajs/src/protocol/error.js' {
  const protocolErrors: {
    readonly errorCodes: readonly { type: string; message: string; retriable: boolean }[];
  };
  export default protocolErrors;
}
