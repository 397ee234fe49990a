/** A REST answer other than 200, in Flink's error shape `{"errors": [...]}`. */
export class RestError extends Error {
  override name = 'RestError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
