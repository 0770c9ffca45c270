/**
 * The one place the process environment is read. Everything else receives the
 * variables it needs as arguments, so tests never mutate `process.env`.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

export function readEnvironment(): Environment {
  return { ...process.env };
}
