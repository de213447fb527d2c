/**
 * @cellgraph/schema: the single source of truth for every document that crosses a
 * boundary in cellgraph. Each export is a zod schema with its inferred type of the same name.
 */
export * from './names';
export * from './annotations';
export * from './notebook';
export * from './diagnostics';
export * from './ir';
export * from './runs';
export * from './invocation';
export * from './api';
export * from './schedules';
export * from './identity';
export * from './params';
export * from './routes';
export * from './sse';
export * from './client';
export * from './documented';
