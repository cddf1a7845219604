import { CloseCode, ProtocolError } from '@diaryx-sync/protocol';

/** Runs `fn`, asserts it throws a ProtocolError (of `kind`, with `closeCode`) and returns it. */
export function expectProtocolError(
  fn: () => unknown,
  kind?: string,
  closeCode: number = CloseCode.ProtocolError,
): ProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  const err = caught as ProtocolError;
  if (kind) expect(err.kind).toBe(kind);
  expect(err.closeCode).toBe(closeCode);
  expect(Buffer.byteLength(err.reason, 'utf8')).toBeLessThanOrEqual(123);
  return err;
}
