import { LoggerService } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Nest's logger interface over pino: one JSON object per line on stdout. A message may be a
 * string or an object `{ msg, ...fields }` whose fields (rule, topic, reason...) become JSON
 * fields. Callers never pass payloads or key material.
 */
export class JsonLogger implements LoggerService {
  private readonly pino: Pino;

  constructor(level: LogLevel = 'info', destination?: pino.DestinationStream) {
    this.pino = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  private write(level: LogLevel, message: unknown, rest: unknown[]): void {
    // Nest passes the context (the class name) last; an error's stack comes before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const fields =
      message !== null && typeof message === 'object' && !(message instanceof Error) ? { ...(message as Record<string, unknown>) } : { msg: String(message) };
    const msg = typeof fields.msg === 'string' ? fields.msg : '';
    delete fields.msg;
    this.pino[level]({ context, ...fields }, msg);
  }
}
