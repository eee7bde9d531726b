/**
 * Runs `task` for 0..count-1 with at most `concurrency` in flight: seeding the emulator (moto serves
 * requests on threads) and the concurrent variant of the naive scan.
 */
export async function inPool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
