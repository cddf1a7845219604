import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@diaryx-sync/runtime';

/**
 * Routes NestJS framework logs into the process's pino logger (JSON lines). Nest's chatty `log`
 * level (module init, route mapping) goes to pino `debug`; warnings and errors keep their level.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.logger.debug({ context: contextOf(params) }, text(message));
  }
  error(message: unknown, ...params: unknown[]): void {
    const [trace] = params;
    this.logger.error(
      { context: contextOf(params), trace: typeof trace === 'string' ? trace : undefined },
      text(message),
    );
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.logger.warn({ context: contextOf(params) }, text(message));
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.logger.debug({ context: contextOf(params) }, text(message));
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.logger.trace({ context: contextOf(params) }, text(message));
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.logger.fatal({ context: contextOf(params) }, text(message));
  }
}

function contextOf(params: unknown[]): string | undefined {
  const last = params[params.length - 1];
  return typeof last === 'string' ? last : undefined;
}

function text(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.stack ?? message.message;
  return JSON.stringify(message);
}
