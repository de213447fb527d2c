/** Whether a process exists (signal 0: EPERM means it does, but belongs to someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Calls `onGone` once when process `pid` has ended, checking every `intervalMs` (the timer
 * does not keep Node alive). How a server started by JupyterLab stops with it whatever
 * stopped JupyterLab: a signal its process supervisor swallowed, a crash, SIGKILL. Returns
 * the function that stops watching.
 */
export function watchProcess(pid: number, onGone: () => void, intervalMs = 1000, exists: (pid: number) => boolean = processExists): () => void {
  const timer = setInterval(() => {
    if (exists(pid)) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
