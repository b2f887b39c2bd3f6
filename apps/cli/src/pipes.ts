/**
 * `imgbase layout | head -1`: the reader may go away before everything is written. The write then fails
 * with EPIPE, which is no error of imgbase's: stay quiet (no stack trace) and finish as usual.
 */
export function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}
