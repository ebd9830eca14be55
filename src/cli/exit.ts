/**
 * Resolves once everything written to `stream` so far has left the process (or the stream is closed). Writes to a
 * pipe are queued in memory while the reader lags; `process.exit()` would drop them.
 */
function written(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) {
      resolve();
      return;
    }
    // Writes complete in order, so an empty write's callback runs after every earlier one (or with an error).
    stream.write('', () => resolve());
  });
}

/**
 * Exits with `code` (default `process.exitCode`) after stdout and stderr are written out. The CLI must end
 * explicitly (Dawn, the webgpu backend, keeps Node's event loop alive while its device exists), but not before a
 * slow reader of its output has it all.
 */
export async function exitWhenWritten(code?: number): Promise<never> {
  await Promise.all([written(process.stdout), written(process.stderr)]);
  // Not process.exit(undefined): an explicit undefined resets a process.exitCode set earlier to 0.
  process.exit(code ?? process.exitCode);
}
