import { SingleBar, Presets } from 'cli-progress';
import type { CliIo } from './io';

/** A progress bar on a TTY (cli-progress), nothing otherwise. */
export interface Progress {
  update(done: number, total: number, phase: string): void;
  stop(): void;
}

/** Creates a {@link Progress}; silent unless enabled and the stream is a terminal. */
export function createProgress(io: CliIo, enabled: boolean): Progress {
  const stream = io.progressStream;
  if (!enabled || stream === undefined || stream.isTTY !== true) {
    return { update: () => undefined, stop: () => undefined };
  }
  const bar = new SingleBar(
    {
      stream,
      format: '{phase} [{bar}] {value}/{total} files',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, phase) {
      if (!started) {
        bar.start(Math.max(total, 1), done, { phase });
        started = true;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done, { phase });
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
