/**
 * The async face of a synchronous implementation: every method of T returning R becomes a method
 * returning Promise<R>. Feature repositories are async (PostgreSQL answers over the network); the
 * SQLite implementations are synchronous (better-sqlite3) and are exposed through `asyncOver`.
 */
export type Async<T> = {
  [K in keyof T as T[K] extends (...a: never[]) => unknown ? K : never]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never;
};

/**
 * Wraps a synchronous object so that each method call returns a promise (a throw becomes a
 * rejection, never a synchronous exception). The object's own `this` is kept.
 */
export function asyncOver<T extends object>(impl: T): Async<T> {
  return new Proxy(impl, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return undefined;
      return (...args: unknown[]) => {
        try {
          return Promise.resolve((v as (...a: unknown[]) => unknown).apply(target, args));
        } catch (e) {
          return Promise.reject(e);
        }
      };
    },
  }) as unknown as Async<T>;
}

/** The arguments of a function over a database handle, without the handle (repositories that delegate to such functions). */
export type ArgsAfterDb<F> = F extends (db: never, ...a: infer A) => unknown ? A : never;
