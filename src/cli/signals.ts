/**
 * First Ctrl-C or SIGTERM: log `message` and abort the returned signal, so the work stops cleanly (a training
 * finishes its step and writes a checkpoint). A second one quits at once with 130 (SIGINT) or 143 (SIGTERM).
 */
export function stopOnSignals(
  message: (signal: NodeJS.Signals) => string,
  log: (line: string) => void,
): { signal: AbortSignal; release: () => void } {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(signal === 'SIGTERM' ? 143 : 130);
    log(message(signal));
    stop.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** `sweep` and `reproduce`: the first signal lets running trainings checkpoint and stop, a second quits at once. */
export function stopTrainingsOnSignals(log: (line: string) => void): { signal: AbortSignal; release: () => void } {
  return stopOnSignals((signal) => `${signal}: stopping the running trainings after their current step (again to quit at once)`, log);
}
